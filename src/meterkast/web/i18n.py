"""The portal's words in Dutch and English, and how a request picks its language.

Each message is a (Dutch, English) pair, so a language can never miss a message. The language
comes from ``?lang=``, then the ``lang`` cookie, then Accept-Language; Dutch by default.
"""

from __future__ import annotations

from collections.abc import Callable

LANGUAGES = ("nl", "en")
DEFAULT = "nl"

MESSAGES: dict[str, tuple[str, str]] = {
    "app": ("Mijn meterkast", "My meterkast"),
    "skip": ("Naar de inhoud", "Skip to content"),
    "lang_switch": ("English", "Nederlands"),
    "sign_in": ("Inloggen", "Sign in"),
    "sign_out": ("Uitloggen", "Sign out"),
    "customer_id": ("Klantnummer", "Customer number"),
    "code": ("Eenmalige code", "One-time code"),
    "code_help": (
        "De code is 10 minuten geldig en werkt één keer.",
        "The code is valid for 10 minutes and works once.",
    ),
    "bad_code": (
        "Die combinatie van klantnummer en code klopt niet, of de code is verlopen.",
        "That customer number and code do not match, or the code has expired.",
    ),
    "oidc_sign_in": ("Inloggen via uw identiteitsdienst", "Sign in with your identity provider"),
    "connections": ("Mijn aansluitingen", "My connections"),
    "no_connections": (
        "U heeft geen aansluitingen met een contract.",
        "You have no connections with a contract.",
    ),
    "connection": ("Aansluiting", "Connection"),
    "since": ("sinds", "since"),
    "until": ("tot en met", "until"),
    "consumption": ("Verbruik", "Consumption"),
    "feed_in": ("Teruglevering", "Feed-in"),
    "gas_use": ("Gasverbruik", "Gas use"),
    "by_month": ("Per maand", "By month"),
    "by_day": ("Per dag", "By day"),
    "period": ("Periode", "Period"),
    "chart_desc": (
        "{what} in {unit} {per}, van {first} tot en met {last}.",
        "{what} in {unit} {per}, from {first} to {last}.",
    ),
    "per_month": ("per maand", "per month"),
    "per_day": ("per dag", "per day"),
    "no_data": ("Voor deze periode zijn er geen meterstanden.", "No readings for this period."),
    "table": ("Toon de cijfers als tabel", "Show the numbers as a table"),
    "download": ("Download mijn meterstanden", "Download my readings"),
    "csv": ("CSV (spreadsheet)", "CSV (spreadsheet)"),
    "espi": ("Green Button XML", "Green Button XML"),
    "choice": ("Uitleeskeuze", "Reading choice"),
    "choice_standard": (
        "Standaard: uw slimme meter stuurt elke dag de meterstand van 00:00. Die bewaren we 24 "
        "maanden en gebruiken we alleen voor uw rekening, overstappen, verhuizen en het net.",
        "Standard: your smart meter sends its 00:00 reading each day. We keep it for 24 months "
        "and use it only for your bill, switching, moving and the grid.",
    ),
    "choice_administratively_off": (
        "Administratief uit: uw meter wordt niet op afstand uitgelezen voor verbruik. U geeft "
        "zelf meterstanden door bij verhuizen, overstappen en de jaarafrekening.",
        "Administratively off: your meter is not read remotely for consumption. You pass "
        "readings yourself when you move, switch and for your yearly bill.",
    ),
    "choice_no_smart_meter": (
        "Geen slimme meter: de meterstanden komen van u.",
        "No smart meter: readings come from you.",
    ),
    "choice_off": ("Zet uitlezen op afstand uit", "Switch remote reading off"),
    "choice_on": ("Zet uitlezen op afstand weer aan", "Switch remote reading back on"),
    "choice_free": (
        "Wijzigen is gratis en gaat vandaag in.",
        "Changing is free and takes effect today.",
    ),
    "choice_not_yours": (
        "Alleen de huidige klant op dit adres kiest.",
        "Only the current customer at this address chooses.",
    ),
    "grants": ("Mijn toestemmingen", "My consents"),
    "no_grants": ("U heeft geen toestemmingen gegeven.", "You have not given any consent."),
    "grantee": ("Partij", "Party"),
    "scopes": ("Gegevens", "Data"),
    "purpose": ("Doel", "Purpose"),
    "data_period": ("Gegevens over", "Data covering"),
    "valid_until": ("Geldig tot", "Valid until"),
    "status": ("Status", "Status"),
    "withdraw": ("Intrekken", "Withdraw"),
    "give": ("Toestemming geven", "Give consent"),
    "party_ean": ("EAN-code van de partij", "The party's EAN code"),
    "scope_daily": ("Dagstanden", "Daily readings"),
    "scope_interval": ("Kwartierwaarden", "Interval values"),
    "scope_history": ("Historische standen", "Historical readings"),
    "first_day": ("Eerste dag", "First day"),
    "last_day": ("Laatste dag", "Last day"),
    "valid_days": ("Geldig (dagen)", "Valid (days)"),
    "access_log": ("Wie keek er naar mijn gegevens", "Who looked at my data"),
    "no_access": ("Nog niemand.", "Nobody yet."),
    "when": ("Wanneer", "When"),
    "who": ("Wie", "Who"),
    "days": ("Dagen", "Days"),
    "result": ("Uitkomst", "Outcome"),
    "allowed": ("toegestaan", "allowed"),
    "denied": ("geweigerd", "denied"),
    "you": ("uzelf", "you"),
    "error": ("Dat lukte niet", "That did not work"),
    "back": ("Terug", "Back"),
    "consent_title": ("Toestemming voor {app}", "Consent for {app}"),
    "consent_intro": (
        "{app} vraagt om uw meterstanden. U kiest zelf welke aansluiting, welke gegevens en "
        "over welke periode. U kunt de toestemming altijd intrekken.",
        "{app} asks for your meter readings. You choose which connection, which data and over "
        "which period. You can always withdraw your consent.",
    ),
    "scope_24_maanden_dagstanden": (
        "Dagstanden van de laatste 24 maanden",
        "Daily readings of the last 24 months",
    ),
    "consent_incomplete": (
        "Kies een aansluiting, welke gegevens en een periode.",
        "Choose a connection, which data and a period.",
    ),
    "allow": ("Toestaan", "Allow"),
    "deny": ("Weigeren", "Deny"),
    "status_active": ("actief", "active"),
    "status_requested": ("aangevraagd", "requested"),
    "status_revoked": ("ingetrokken", "withdrawn"),
    "status_expired": ("verlopen", "expired"),
    "status_ended": ("beëindigd", "ended"),
    "purpose_A.1": ("eigen inzage", "your own access"),
    "purpose_A.5": ("uw verzoek om inzage (AVG)", "your data-subject request"),
    "purpose_A.3": (
        "dienst van een derde met uw toestemming",
        "a third party's service with your consent",
    ),
    "purpose_1.2": ("uw uitleeskeuze", "your reading choice"),
}


def choose(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The language for a request: explicit choice, remembered choice, browser, Dutch."""
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return candidate
    ranked: list[tuple[float, str]] = []
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        primary = tag.split("-")[0].lower()
        if primary in LANGUAGES and weight > 0:
            ranked.append((weight, primary))
    if ranked:
        return max(ranked, key=lambda r: r[0])[1]  # max keeps the first of equal weights
    return DEFAULT


def number(lang: str) -> Callable[[float], str]:
    """One decimal at most; a decimal comma in Dutch."""

    def fmt(value: float) -> str:
        text = f"{value:.1f}".removesuffix(".0")
        return text.replace(".", ",") if lang == "nl" else text

    return fmt


def translator(lang: str) -> Callable[..., str]:
    index = LANGUAGES.index(lang) if lang in LANGUAGES else 0

    def t(key: str, **values: object) -> str:
        pair = MESSAGES.get(key)
        text = pair[index] if pair else key  # an unknown key shows itself: tests catch it
        return text.format(**values) if values else text

    return t


def _merge() -> None:
    from meterkast.web.i18n_staff import STAFF_MESSAGES

    clash = set(MESSAGES) & set(STAFF_MESSAGES)
    if clash:  # pragma: no cover - a test imports this module
        raise RuntimeError(f"message keys defined twice: {sorted(clash)}")
    MESSAGES.update(STAFF_MESSAGES)


_merge()
