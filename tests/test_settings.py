"""Configuration refusals an operator would hit."""

import pytest

from services.core.settings import DEFAULT_SECRET, SettingsError, load_settings


def test_production_refuses_the_default_secret(monkeypatch):
    monkeypatch.setenv("VDI_ENV", "production")
    monkeypatch.setenv("VDI_SECRET_KEY", DEFAULT_SECRET)
    with pytest.raises(SettingsError, match="VDI_SECRET_KEY"):
        load_settings()


def test_production_accepts_a_real_secret_and_has_no_demo_data(monkeypatch):
    monkeypatch.setenv("VDI_ENV", "production")
    monkeypatch.setenv("VDI_SECRET_KEY", "x" * 48)
    monkeypatch.setenv("VDI_BCRYPT_ROUNDS", "12")
    settings = load_settings()
    assert settings.production and not settings.demo_data


def test_bad_values_are_named_in_the_error(monkeypatch):
    monkeypatch.setenv("VDI_MAX_DIRECT_SLOTS", "many")
    with pytest.raises(SettingsError, match="VDI_MAX_DIRECT_SLOTS"):
        load_settings()
    monkeypatch.setenv("VDI_MAX_DIRECT_SLOTS", "1")
    monkeypatch.setenv("VDI_TIMEZONE", "Mars/Olympus")
    with pytest.raises(SettingsError, match="VDI_TIMEZONE"):
        load_settings()
