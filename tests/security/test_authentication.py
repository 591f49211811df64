"""Authentication: lockout without malicious lockout, one answer for every failure, password policy.

RELIABILITY.md AU-2, AU-3. Figures: attempts before lockout (5), cooloff (15 min), observable
differences between an unknown user and a wrong password (0), context-word list size.
"""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from tenancies.security import file_words
from tests.factories import AgencyFactory, UserFactory

from .conftest import PASSWORD, without_csrf

pytestmark = pytest.mark.django_db


def _login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_unknown_user_and_wrong_password_get_the_same_answer(client):
    UserFactory(username="camille")
    unknown = _login(client, "personne", "Mauvais-mot-de-passe-1")
    wrong = _login(client, "camille", "Mauvais-mot-de-passe-1")
    assert unknown.status_code == wrong.status_code == 200
    assert "Identifiant ou mot de passe incorrect." in unknown.content.decode()
    assert without_csrf(unknown.content.decode()) == without_csrf(wrong.content.decode())
    assert {k for k, _ in unknown.items()} == {k for k, _ in wrong.items()}


def test_inactive_user_gets_the_same_answer_as_a_wrong_password(client):
    UserFactory(username="parti", is_active=False)
    UserFactory(username="camille")
    inactive = _login(client, "parti", PASSWORD)
    wrong = _login(client, "camille", "Mauvais-mot-de-passe-1")
    assert without_csrf(inactive.content.decode()) == without_csrf(wrong.content.decode())


def test_lockout_after_five_failures_for_fifteen_minutes_only(client, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    assert timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    UserFactory(username="camille")
    UserFactory(username="dominique")
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        for _ in range(4):
            assert _login(client, "camille", "Mauvais-mot-de-passe-1").status_code == 200
        # The fifth failure locks (username, address): even the right password is refused now.
        assert _login(client, "camille", "Mauvais-mot-de-passe-1").status_code == 429
        locked = _login(client, "camille", PASSWORD)
        assert locked.status_code == 429
        assert "Réessayez dans 15 minutes" in locked.content.decode()
        # Another user from the same address is not locked out (no malicious lockout of everyone).
        assert _login(client, "dominique", PASSWORD).status_code == 302
        client.logout()
        # The cooloff runs from the last attempt (axes counts an attempt made while locked).
        traveller.shift(timedelta(minutes=16))
        response = _login(client, "camille", PASSWORD)
        assert response.status_code == 302, "the lockout must end after 15 minutes"
    print("\nFIGURE lockout: 5 attempts, cooloff 15 min")


def test_unknown_user_is_locked_like_a_known_one(client):
    UserFactory(username="camille")
    for _ in range(5):
        _login(client, "personne", "Mauvais-mot-de-passe-1")
        _login(client, "camille", "Mauvais-mot-de-passe-1")
    unknown = _login(client, "personne", "Mauvais-mot-de-passe-1")
    known = _login(client, "camille", "Mauvais-mot-de-passe-1")
    assert unknown.status_code == known.status_code == 429
    assert without_csrf(unknown.content.decode()) == without_csrf(known.content.decode())


# --- Password policy (ASVS 6.2) ----------------------------------------------------------------


def _errors(password, user=None):
    try:
        validate_password(password, user)
    except ValidationError as exc:
        return [e.code for e in exc.error_list]
    return []


def test_eleven_characters_are_refused_twelve_accepted():
    assert "password_too_short" in _errors("Kp7#vq2Lm9x")
    assert _errors("Kp7#vq2Lm9xZ") == []


def test_long_passwords_and_passphrases_are_accepted_without_composition_rules():
    assert _errors("x" * 2 + "Kp7#vq2Lm9xZ" * 5 + "ab") == []  # 64 characters
    assert _errors("Kp7#vq2Lm9xZ" * 10 + "abcdefgh") == []  # 128 characters
    assert _errors("cheval agrafe batterie correcte") == []  # lower case only, no digit: fine


def test_common_and_numeric_passwords_are_refused():
    assert "password_too_common" in _errors("peanutbutter")
    assert "password_entirely_numeric" in _errors("739184620573")


@pytest.mark.parametrize(
    "password",
    ["Locatif-Demo-2026", "HLM-bailleur-2026", "Caleol!Caleol!", "L0c4t1f2026!!", "valdeseinehabitat"],
)
def test_the_landlords_own_words_are_refused(password):
    assert "password_context_word" in _errors(password)


def test_agency_names_from_the_database_are_refused():
    AgencyFactory(code="ZZZ", name="Agence Quetzalcoatl")
    assert "password_context_word" in _errors("Quetzalcoatl-2026")
    # A long passphrase that merely contains a context word is fine.
    assert _errors("quetzalcoatl mange des cerises") == []


def test_password_similar_to_the_username_is_refused(db):
    user = UserFactory(username="catherine.lefevre", first_name="Catherine", last_name="Lefèvre")
    assert "password_too_similar" in _errors("catherine.lefevre1", user)


def test_context_word_list_size():
    words = file_words()
    assert {"locatif", "bailleur", "hlm", "caleol"} <= words
    print(f"\nFIGURE context words: {len(words)} in the file, plus the agencies' names")


def test_password_change_page_applies_the_policy(client):
    user = UserFactory(username="camille")
    client.force_login(user)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "Locatif-2026", "new_password2": "Locatif-2026"},
    )
    assert response.status_code == 200
    assert "trop prévisibles" in response.content.decode()
