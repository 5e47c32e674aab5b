"""Lexical analysis: the same terms for indexed text and queries, English and Japanese."""

from kass.adapters.local.text_analysis import analyze, index_text, query_terms


def test_given_english_inflections_when_analyzed_then_stems_meet():
    assert analyze("Failed logins") == analyze("failing login") == ["fail", "login"]


def test_given_stopwords_when_analyzed_then_dropped():
    assert analyze("What is the rate of the limit") == ["rate", "limit"]


def test_given_full_width_latin_when_analyzed_then_same_as_ascii():
    assert analyze("ＡＰＩ　Ｋｅｙ") == analyze("api key") == ["api", "key"]


def test_given_japanese_run_when_analyzed_then_character_bigrams():
    assert analyze("通知が届かない") == ["通知", "知が", "が届", "届か", "かな", "ない"]


def test_given_single_kanji_when_analyzed_then_kept_as_unigram():
    assert analyze("猫 cat") == ["猫", "cat"]


def test_given_mixed_script_when_analyzed_then_runs_split_at_script_boundary():
    assert analyze("Slackの通知API") == ["slack", "の通", "通知", "api"]


def test_given_punctuation_and_numbers_when_analyzed_then_split_and_kept():
    assert analyze("v2.3 release-notes (2024)") == ["v2", "3", "releas", "note", "2024"]


def test_given_repeated_query_words_when_query_terms_then_distinct_in_first_seen_order():
    assert query_terms("limit rate limits Rate") == ["limit", "rate"]


def test_given_only_stopwords_when_query_terms_then_empty():
    assert query_terms("what is the") == []


def test_given_text_when_index_text_then_space_joined_terms_without_ascii_punctuation():
    stored = index_text('He said: "deploy failed!" — プッシュ通知')
    assert stored.split(" ") == analyze('He said: "deploy failed!" — プッシュ通知')
    assert not any(ch in stored for ch in '"!:—')
