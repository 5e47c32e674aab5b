"""Settings come from KASS_* variables and .env, validated once, with clear failures."""

import pytest
from pydantic import ValidationError

from kass.settings import load_settings


def test_given_no_environment_when_loaded_then_local_profile_defaults(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.app.profile == "local"
    assert settings.retrieval.mode == "hybrid"
    assert settings.index_dir.as_posix() == ".kass/index"


def test_given_env_variables_when_loaded_then_they_override(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KASS_CHUNK_SIZE", "128")
    monkeypatch.setenv("KASS_RETRIEVAL_FUSION", "rrf")
    monkeypatch.setenv("KASS_HOME", str(tmp_path / "ws"))
    settings = load_settings()
    assert settings.chunker.size == 128
    assert settings.retrieval.fusion == "rrf"
    assert settings.index_dir == tmp_path / "ws" / "index"


def test_given_dotenv_file_when_loaded_then_it_is_read(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("KASS_ANSWER_PASSAGES=7\n")
    assert load_settings().answer.passages == 7


@pytest.mark.parametrize(
    ("name", "value"),
    [("KASS_PROFILE", "gcp"), ("KASS_CHUNK_OVERLAP", "500"), ("KASS_RETRIEVAL_DENSE_WEIGHT", "2")],
)
def test_given_invalid_value_when_loaded_then_validation_error(monkeypatch, tmp_path, name, value):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        load_settings()


def test_given_none_for_optional_setting_when_loaded_then_it_is_unset(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KASS_RETRIEVAL_CJK_LEXICAL_WEIGHT", "none")
    assert load_settings().retrieval.cjk_lexical_weight is None
