"""The housekeeping prompts Open WebUI and LibreChat send to the chat model, quoted from their source, rendered
the way each client renders them (for tests of assistant/app/client_tasks.py and `briefing serve`).

Sources (read 2026-12-07):
- Open WebUI, open-webui/open-webui backend/open_webui/config.py (commit 00b1c6bcaa3c): the DEFAULT_*_PROMPT_TEMPLATE
  strings; backend/open_webui/routers/tasks.py sends each as the only message, role "user", stream false;
  {{MESSAGES:END:n}} becomes the last n messages as "ROLE: content" lines (utils/misc.get_messages_content).
- Open WebUI before the title template was reworded (0.6 releases): the "3-5 word title with an emoji" template.
- LibreChat, danny-avila/agents src/utils/title.ts: defaultCompletionPrompt (titleMethod "completion", the
  default), with the conversation as "User: {input}\\nAI: {output}" (src/run.ts).
- LibreChat's older clients, danny-avila/LibreChat api/app/clients/prompts/titlePrompts.js (titleInstruction) and
  OpenAIClient.titleConvo: a system message "Please generate <titleInstruction>\\n\\n<convo>\\n\\n||>Title:".
"""

from __future__ import annotations

OWUI_TITLE = """### Task:
Generate a concise title summarizing the chat history.
### Guidelines:
- The title should clearly represent the main theme or subject of the conversation.
- Keep it short: 2-4 words is best.
- Do not use emojis, quotation marks, or special formatting.
- Write the title in the chat's primary language; default to English if multilingual.
- Prioritize accuracy over creativity.
- Your entire response must consist solely of the JSON object, without any introductory or concluding text.
- The output must be a single, raw JSON object, without any markdown code fences or other encapsulating text.
- Ensure no conversational text, affirmations, or explanations precede or follow the raw JSON output, as this will cause direct parsing failure.
### Output:
JSON format: { "title": "your concise title here" }
### Examples:
- { "title": "Stock Trends" },
- { "title": "Chocolate Chip Cookies" },
- { "title": "Music Streaming" },
- { "title": "Remote Work" }
### Chat History:
<chat_history>
{{MESSAGES:END:2}}
</chat_history>"""

OWUI_TITLE_0_6 = """### Task:
Generate a concise, 3-5 word title with an emoji summarizing the chat history.
### Guidelines:
- The title should clearly represent the main theme or subject of the conversation.
- Use emojis that enhance understanding of the topic, but avoid quotation marks or special formatting.
- Write the title in the chat's primary language; default to English if multilingual.
- Prioritize accuracy over excessive creativity; keep it clear and simple.
- Your entire response must consist solely of the JSON object, without any introductory or concluding text.
- The output must be a single, raw JSON object, without any markdown code fences or other encapsulating text.
- Ensure no conversational text, affirmations, or explanations precede or follow the raw JSON output, as this will cause direct parsing failure.
### Output:
JSON format: { "title": "your concise title here" }
### Examples:
- { "title": "📉 Stock Market Trends" },
- { "title": "🍪 Perfect Chocolate Chip Recipe" },
- { "title": "Evolution of Music Streaming" },
- { "title": "Remote Work Productivity Tips" },
- { "title": "Artificial Intelligence in Healthcare" },
- { "title": "🎮 Video Game Development Insights" }
### Chat History:
<chat_history>
{{MESSAGES:END:2}}
</chat_history>"""

OWUI_TAGS = """### Task:
Generate 1-3 broad tags categorizing the main themes of the chat history, along with 1-3 more specific subtopic tags.

### Guidelines:
- Start with high-level domains (e.g. Science, Technology, Philosophy, Arts, Politics, Business, Health, Sports, Entertainment, Education)
- Consider including relevant subfields/subdomains if they are strongly represented throughout the conversation
- If content is too short (less than 3 messages) or too diverse, use only ["General"]
- Use the chat's primary language; default to English if multilingual
- Prioritize accuracy over specificity

### Output:
JSON format: { "tags": ["tag1", "tag2", "tag3"] }

### Chat History:
<chat_history>
{{MESSAGES:END:6}}
</chat_history>"""

OWUI_FOLLOW_UPS = """### Task:
Suggest 3-5 relevant follow-up questions or prompts that the user might naturally ask next in this conversation as a **user**, based on the chat history, to help continue or deepen the discussion.
### Guidelines:
- Write all follow-up questions from the user’s point of view, directed to the assistant.
- Make questions concise, clear, and directly related to the discussed topic(s).
- Only suggest follow-ups that make sense given the chat content and do not repeat what was already covered.
- If the conversation is very short or not specific, suggest more general (but relevant) follow-ups the user might ask.
- Use the conversation's primary language; default to English if multilingual.
- Response must be a JSON object with a "follow_ups" key containing an array of strings, no extra text or formatting.
### Output:
JSON format: { "follow_ups": ["Question 1?", "Question 2?", "Question 3?"] }
### Chat History:
<chat_history>
{{MESSAGES:END:6}}
</chat_history>"""

OWUI_QUERIES = """### Task:
Analyze the chat history to determine the necessity of generating search queries, in the given language. By default, **prioritize generating 1-3 broad and relevant search queries** unless it is absolutely certain that no additional information is required. The aim is to retrieve comprehensive, updated, and valuable information even with minimal uncertainty. If no search is unequivocally needed, return an empty list.

### Guidelines:
- Respond **EXCLUSIVELY** with a JSON object. Any form of extra commentary, explanation, or additional text is strictly prohibited.
- When generating search queries, respond in the format: { "queries": ["query1", "query2"] }, ensuring each query is distinct, concise, and relevant to the topic.
- If and only if it is entirely certain that no useful results can be retrieved by a search, return: { "queries": [] }.
- Err on the side of suggesting search queries if there is **any chance** they might provide useful or updated information.
- Be concise and focused on composing high-quality search queries, avoiding unnecessary elaboration, commentary, or assumptions.
- Today's date is: {{CURRENT_DATE}}.
- Always prioritize providing actionable and broad queries that maximize informational coverage.

### Output:
Strictly return in JSON format: 
{
  "queries": ["query1", "query2"]
}

### Chat History:
<chat_history>
{{MESSAGES:END:6}}
</chat_history>
"""

OWUI_AUTOCOMPLETE = """### Task:
You are an autocompletion system. Continue the text in `<text>` based on the **completion type** in `<type>` and the given language.  

### **Instructions**:
1. Analyze `<text>` for context and meaning.  
2. Use `<type>` to guide your output:  
   - **General**: Provide a natural, concise continuation.  
   - **Search Query**: Complete as if generating a realistic search query.  
3. Start as if you are directly continuing `<text>`. Do **not** repeat, paraphrase, or respond as a model. Simply complete the text.  
4. Ensure the continuation:
   - Flows naturally from `<text>`.  
   - Avoids repetition, overexplaining, or unrelated ideas.  
5. If unsure, return: `{ "text": "" }`.  

### **Output Rules**:
- Respond only in JSON format: `{ "text": "<your_completion>" }`.

### **Examples**:
#### Example 1:  
Input:  
<type>General</type>  
<text>The sun was setting over the horizon, painting the sky</text>  
Output:  
{ "text": "with vibrant shades of orange and pink." }

#### Example 2:  
Input:  
<type>Search Query</type>  
<text>Top-rated restaurants in</text>  
Output:  
{ "text": "New York City for Italian cuisine." }  

---
### Context:
<chat_history>
{{MESSAGES:END:6}}
</chat_history>
<type>{{TYPE}}</type>  
<text>{{PROMPT}}</text>  
#### Output:
"""

LIBRECHAT_TITLE = """Provide a concise, 5-word-or-less title for the conversation, using title case conventions. Only return the title itself.

Conversation:
{convo}"""
LIBRECHAT_CONVO = "User: {input}\nAI: {output}"

LIBRECHAT_TITLE_INSTRUCTION = ('a concise, 5-word-or-less title for the conversation, using its same language, with no '
                               'punctuation. Apply title case conventions appropriate for the language. Never directly '
                               'mention the language name or the word "title"')


def owui(template: str, turns: list[tuple[str, str]], typed: str = "") -> list[dict[str, str]]:
    """The messages Open WebUI sends for `template` after the chat `turns` ((role, content) pairs)."""
    def last(n: int) -> str:
        return "\n".join(f"{role.upper()}: {content}" for role, content in turns[-n:])

    text = template
    for n in (2, 6):
        text = text.replace(f"{{{{MESSAGES:END:{n}}}}}", last(n))
    text = text.replace("{{CURRENT_DATE}}", "2026-12-07").replace("{{TYPE}}", "General").replace("{{PROMPT}}", typed)
    return [{"role": "user", "content": text}]


def librechat(question: str, answer: str) -> list[dict[str, str]]:
    """The message LibreChat's agents client sends for a title (titleMethod "completion")."""
    convo = LIBRECHAT_CONVO.format(input=question, output=answer)
    return [{"role": "user", "content": LIBRECHAT_TITLE.format(convo=convo)}]


def librechat_legacy(question: str, answer: str) -> list[dict[str, str]]:
    """The single system message LibreChat's older OpenAIClient sent for a title."""
    convo = f'||>User:\n"{question}"\n||>Response:\n"{answer}"'
    return [{"role": "system", "content": f"Please generate {LIBRECHAT_TITLE_INSTRUCTION}\n\n{convo}\n\n||>Title:"}]
