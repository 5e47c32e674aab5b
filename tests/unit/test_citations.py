"""Resolving `[n]` markers against the retrieved passages."""

from kass.chat.citations import SNIPPET_CHARS, resolve_citations
from kass.models import Chunk, SearchHit


def hit(doc_id: str, body: str, *, title: str = "", url: str | None = None) -> SearchHit:
    text = f"{title}\n\n{body}" if title else body
    chunk = Chunk(
        id=Chunk.make_id(doc_id, 0, text),
        doc_id=doc_id,
        position=0,
        text=text,
        source=doc_id.split(":", 1)[0],
        title=title,
        url=url,
    )
    return SearchHit(chunk=chunk, score=1.0)


PASSAGES = [
    hit(
        "gitlab:tsubame/api!142",
        "The session cookie went back to SameSite=Lax. Origin checks keep CSRF protection.",
        title="Hotfix 2.3.1",
        url="https://gitlab.example.com/tsubame/api/-/merge_requests/142",
    ),
    hit("backlog:TSB-42", "2.3.1を15:20にリリースしました。", title="ログイン障害"),
    hit("file:notes/oncall.md", "Page the secondary after 15 minutes.", title="On-call"),
]


def test_given_valid_markers_when_resolved_then_renumbered_in_order_of_first_appearance():
    cited = resolve_citations("Lax again [2]. Origin checks [1]. Hotfix [2].", PASSAGES)

    assert [c.n for c in cited.citations] == [1, 2]
    assert [c.doc_id for c in cited.citations] == ["backlog:TSB-42", "gitlab:tsubame/api!142"]
    assert cited.text == "Lax again [1]. Origin checks [2]. Hotfix [1]."
    assert cited.dropped == 0


def test_given_a_citation_when_resolved_then_it_describes_the_passage():
    cited = resolve_citations("It was reverted [1].", PASSAGES)

    citation = cited.citations[0]
    assert citation.chunk_id == PASSAGES[0].chunk.id
    assert citation.title == "Hotfix 2.3.1"
    assert citation.source == "gitlab"
    assert citation.location == "https://gitlab.example.com/tsubame/api/-/merge_requests/142"
    assert "SameSite=Lax" in citation.snippet
    assert not citation.snippet.startswith("Hotfix 2.3.1")  # the title prefix is not the snippet


def test_given_a_passage_without_url_when_cited_then_location_is_the_doc_id():
    cited = resolve_citations("Escalate after 15 minutes [3].", PASSAGES)

    assert cited.citations[0].location == "file:notes/oncall.md"


def test_given_out_of_range_and_zero_markers_when_resolved_then_removed_and_counted():
    cited = resolve_citations("Lax [1]. Made up [7]. Also made up [0].", PASSAGES)

    assert cited.text == "Lax [1]. Made up. Also made up."
    assert [c.n for c in cited.citations] == [1]
    assert cited.dropped == 2


def test_given_only_unknown_markers_when_resolved_then_no_citations():
    cited = resolve_citations("Nothing real [4][5].", PASSAGES)

    assert cited.citations == []
    assert cited.text == "Nothing real."
    assert cited.dropped == 2


def test_given_grouped_markers_when_resolved_then_valid_numbers_kept_in_the_group():
    cited = resolve_citations("Both say so [1, 9, 2]. And [3,3].", PASSAGES)

    assert cited.text == "Both say so [1, 2]. And [3]."
    assert [c.n for c in cited.citations] == [1, 2, 3]
    assert cited.dropped == 1


def test_given_adjacent_markers_when_resolved_then_each_resolves():
    cited = resolve_citations("Released [2][1].", PASSAGES)

    assert cited.text == "Released [1][2]."
    assert [c.doc_id for c in cited.citations] == ["backlog:TSB-42", "gitlab:tsubame/api!142"]


def test_given_repeated_marker_when_resolved_then_cited_once():
    cited = resolve_citations("A [1]. B [1]. C [1].", PASSAGES)

    assert len(cited.citations) == 1
    assert cited.text.count("[1]") == 3


def test_given_japanese_text_when_resolved_then_marker_kept_before_the_full_stop():
    cited = resolve_citations("15:20にリリースしました[2]。存在しない[6]。", PASSAGES)

    assert cited.text == "15:20にリリースしました[1]。存在しない。"
    assert cited.citations[0].doc_id == "backlog:TSB-42"
    assert cited.dropped == 1


def test_given_unknown_marker_opening_a_line_when_resolved_then_line_break_is_kept():
    cited = resolve_citations("Lax [1].\n[8] Invented line.", PASSAGES)

    assert cited.text == "Lax [1].\nInvented line."


def test_given_no_passages_when_resolved_then_every_marker_dropped():
    cited = resolve_citations("Claim [1].", [])

    assert (cited.text, cited.citations, cited.dropped) == ("Claim.", [], 1)


def test_given_quoted_sentence_when_cited_then_snippet_starts_at_that_sentence():
    cited = resolve_citations("Origin checks keep CSRF protection [1].", PASSAGES)

    assert cited.citations[0].snippet.startswith("Origin checks keep CSRF protection.")


def test_given_long_passage_when_cited_then_snippet_is_bounded():
    long = hit("slack:C1:1.0", " ".join(["word"] * 300))

    snippet = resolve_citations("Words [1].", [long]).citations[0].snippet

    assert len(snippet) <= SNIPPET_CHARS + 1
    assert snippet.endswith("…")


def test_given_bracketed_text_that_is_not_a_marker_when_resolved_then_untouched():
    cited = resolve_citations("See [the runbook] and [x1] [1].", PASSAGES)

    assert cited.text == "See [the runbook] and [x1] [1]."
    assert cited.dropped == 0


THREAD_URL = "https://tsubame.slack.com/archives/C04H7QK2ZL1/p1715650320000100"
THREAD = hit(
    "slack:C04H7QK2ZL1:1715650320.000100",
    "aiko (10:12) https://tsubame.slack.com/archives/C04H7QK2ZL1/p1715650320000100\n"
    "Users cannot log in with Google since the deploy.\n"
    "ren (10:40) https://tsubame.slack.com/archives/C04H7QK2ZL1/p1715652000011111\n"
    "The cookie is SameSite=Strict now, so the IdP redirect drops it.",
    title="#incidents: login failures",
    url=THREAD_URL,
)


def test_given_claim_inside_a_later_message_when_resolved_then_link_is_that_message():
    cited = resolve_citations("The cookie is SameSite=Strict now [1].", [THREAD])

    assert cited.citations[0].link.endswith("p1715652000011111")
    assert cited.citations[0].location == THREAD_URL


def test_given_claim_in_first_message_when_resolved_then_link_is_the_first_message():
    cited = resolve_citations("Users cannot log in with Google since the deploy [1].", [THREAD])

    assert cited.citations[0].link == THREAD_URL


def test_given_paraphrased_claim_when_resolved_then_link_falls_back_to_document_url():
    cited = resolve_citations("Strict cookies broke sign-in [1].", [THREAD])

    assert cited.citations[0].link == THREAD_URL


def test_given_passage_without_url_when_resolved_then_link_is_its_id():
    cited = resolve_citations("Page the secondary after 15 minutes [3].", PASSAGES)

    assert cited.citations[0].link == "file:notes/oncall.md"
