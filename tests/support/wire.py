"""A wire story as three outlets carried it, plus a different story on the same topic (shared by tests)."""

WIRE = (
    "Ukraine and Russia agreed on Tuesday to a 30-day pause in strikes on energy facilities, officials said after "
    "talks in Riyadh. The pause begins at midnight and covers power plants, substations and gas pipelines. "
    "Monitors from the International Atomic Energy Agency will visit the Zaporizhzhia plant next week to check "
    "compliance. Both delegations said a wider ceasefire would need further rounds of negotiation. "
    "Ukraine's foreign minister said Kyiv would respond in kind to any violation of the agreement. "
    "The Kremlin said the deal showed Moscow's goodwill but warned that Western arms deliveries must stop."
)
COPIES = [
    {"id": "wire-reuters", "source": "Reuters", "title": "Ukraine, Russia agree energy strike pause",
     "published_at": "2025-04-02T08:00:00Z", "url": "https://example.com/reuters/pause", "body": WIRE},
    {"id": "wire-guardian", "source": "The Guardian", "title": "Kyiv and Moscow pause energy strikes for 30 days",
     "published_at": "2025-04-02T11:30:00Z", "url": "https://example.com/guardian/pause",
     "body": "By our correspondent in Kyiv. " + WIRE.replace("officials said after talks", "officials said following talks")},
    {"id": "wire-local", "source": "Kyiv Daily", "title": "Energy truce agreed",
     "published_at": "2025-04-02T14:00:00Z", "url": "https://example.com/kyiv/truce",
     "body": WIRE.rsplit(" The Kremlin said", 1)[0] + " Local utilities welcomed the news."},
]
OTHER = {
    "id": "grain-deal", "source": "AP", "title": "Black Sea grain corridor talks resume",
    "published_at": "2025-04-02T09:00:00Z", "url": "https://example.com/ap/grain",
    "body": ("Talks on reopening the Black Sea grain corridor resumed in Istanbul on Tuesday, Turkish officials said. "
             "Ukraine wants guarantees for ships leaving Odesa, while Russia is seeking relief from sanctions on its "
             "agricultural bank. Turkey's foreign minister said a deal could be reached within weeks if both sides "
             "show flexibility. Grain prices fell two percent on the news."),
}
