"""News views over many articles at once: timelines of a subject and briefings of a period.

    stories.py   which story each article belongs to (one function: the switch to the store's story ids)
    sentences.py the cited sentences a view is made of: dated events, and each article's lead
    timeline.py  a subject's events in date order, grouped by story
    brief.py     a period's stories, newest first, one or two cited sentences each
    markdown.py  a briefing or timeline as Markdown, to paste into a newsletter

They read the annotations stored at ingest (communique.nlp): no model runs while a view is built.
"""
