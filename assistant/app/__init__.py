"""The edges users meet: the `briefing` command, the chat page (Gradio), `briefing serve`, the MCP
tools and the JSON shapes they share."""
