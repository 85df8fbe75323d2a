"""The staff pages' words in Dutch and English (merged into ``i18n.MESSAGES``)."""

from __future__ import annotations

STAFF_MESSAGES: dict[str, tuple[str, str]] = {
    "staff_sign_in": ("Inloggen voor medewerkers", "Staff sign-in"),
    "staff_area": ("medewerkers", "staff"),
    "staff_id": ("Medewerkernummer", "Staff id"),
    "staff_bad_code": (
        "Die combinatie van medewerkernummer en code klopt niet, of de code is verlopen.",
        "That staff id and code do not match, or the code has expired.",
    ),
    "staff_code_help": (
        "U krijgt de code van de beheerder (meterkast portal staff-code). Hij is 10 minuten "
        "geldig en werkt één keer.",
        "You get the code from the administrator (meterkast portal staff-code). It is valid "
        "for 10 minutes and works once.",
    ),
    "register": ("Verwerkingsregister", "Processing register"),
    "activity": ("Activiteit", "Activity"),
    "legal_basis": ("Grondslag", "Legal basis"),
    "retention": ("Bewaartermijn", "Retention"),
    "roles": ("Rollen", "Roles"),
    "audit_log": ("Auditlog", "Audit log"),
    "verify_ok": (
        "De auditlog is in orde: {entries} regels gecontroleerd, {checkpoint}.",
        "The audit log verifies: {entries} entries checked, {checkpoint}.",
    ),
    "verify_recent_ok": (
        "Regels {first} tot en met {entries} zijn nu gecontroleerd en in orde, {checkpoint} "
        "(alle controlepunten opnieuw getoetst).",
        "Entries {first} to {entries} were checked now and verify, {checkpoint} "
        "(every checkpoint re-checked).",
    ),
    "full_run_ok": (
        "Laatste volledige controle: {at}, regels 1 tot en met {entries} in orde. Oudere regels "
        "zijn sindsdien alleen via de controlepunten getoetst.",
        "Last full verification: {at}, entries 1 to {entries} verified. Older entries have "
        "since been checked only through the checkpoints.",
    ),
    "full_run_bad": (
        "Laatste volledige controle: {at}, vond een fout bij regel {seq}.",
        "Last full verification: {at}, found a bad entry at {seq}.",
    ),
    "full_verify": ("Volledige controle nu uitvoeren", "Run a full verification now"),
    "last_checkpoint": (
        "laatste ondertekende controlepunt bij regel {seq}",
        "last signed checkpoint at entry {seq}",
    ),
    "no_checkpoint": ("nog geen ondertekend controlepunt", "no signed checkpoint yet"),
    "verify_bad": (
        "De auditlog is aangetast: eerste foute regel {seq} ({kind}). {detail}",
        "The audit log has been tampered with: first bad entry {seq} ({kind}). {detail}",
    ),
    "tamper_modified": ("gewijzigd", "modified"),
    "tamper_deleted": ("verwijderd", "deleted"),
    "tamper_inserted": ("ingevoegd", "inserted"),
    "tamper_reordered": ("van volgorde veranderd", "reordered"),
    "tamper_truncated": ("afgekapt", "truncated"),
    "tamper_bad_checkpoint": ("ongeldig controlepunt", "bad checkpoint"),
    "filter": ("Filteren", "Filter"),
    "filter_connection": ("Aansluiting (EAN)", "Connection (EAN)"),
    "filter_party": ("Partij, klant of medewerker", "Party, customer or staff member"),
    "filter_from": ("Vanaf (datum)", "From (date)"),
    "filter_to": ("Tot en met (datum)", "To (date)"),
    "pseudonyms_note": (
        "Klanten, medewerkers en aansluitingen staan in de log als pseudoniem; een filter op "
        "EAN of nummer zoekt het pseudoniem op.",
        "Customers, staff and connections are stored as pseudonyms; filtering by EAN or number "
        "looks up the pseudonym.",
    ),
    "entries_found": (
        "{total} regels gevonden, pagina {page} van {pages}.",
        "{total} entries found, page {page} of {pages}.",
    ),
    "seq": ("Nr.", "No."),
    "event": ("Gebeurtenis", "Event"),
    "principal": ("Wie (pseudoniem)", "Who (pseudonym)"),
    "subject": ("Aansluiting (pseudoniem)", "Connection (pseudonym)"),
    "reasons": ("Redenen", "Reasons"),
    "previous": ("Vorige pagina", "Previous page"),
    "next": ("Volgende pagina", "Next page"),
    "requests": ("Verzoeken van betrokkenen", "Data-subject requests"),
    "no_requests": ("Er zijn geen verzoeken.", "There are no requests."),
    "deadline_rule": (
        "Een verzoek wordt binnen een maand na ontvangst afgehandeld. Die termijn mag met ten "
        "hoogste twee maanden worden verlengd, met een reden die de betrokkene te horen krijgt "
        "(AVG art. 12 lid 3).",
        "A request is handled within one month of receipt. That deadline may be extended by "
        "two further months at most, with a reason told to the person (GDPR art. 12(3)).",
    ),
    "request": ("Verzoek", "Request"),
    "customer": ("Klant", "Customer"),
    "kind": ("Soort", "Kind"),
    "received": ("Ontvangen", "Received"),
    "deadline": ("Uiterlijk", "Deadline"),
    "overdue": ("te laat", "overdue"),
    "note": ("Toelichting", "Note"),
    "closed": ("Afgesloten", "Closed"),
    "open": ("Openen", "Open"),
    "new_request": ("Nieuw verzoek registreren", "Register a new request"),
    "register_request": ("Registreren", "Register"),
    "kind_access": ("inzage", "access"),
    "kind_rectification": ("correctie", "rectification"),
    "kind_erasure": ("wissen", "erasure"),
    "kind_objection": ("bezwaar", "objection"),
    "kind_consent_withdrawal": ("toestemming intrekken", "withdrawal of consent"),
    "rstatus_received": ("ontvangen", "received"),
    "rstatus_in_progress": ("in behandeling", "in progress"),
    "rstatus_done": ("afgehandeld", "done"),
    "rstatus_refused": ("geweigerd", "refused"),
    "act": ("Afhandelen", "Act on it"),
    "act_start": ("In behandeling nemen", "Start"),
    "act_extend": ("Termijn verlengen", "Extend the deadline"),
    "months": ("Maanden", "Months"),
    "reason": ("Reden", "Reason"),
    "act_refuse": ("Weigeren", "Refuse"),
    "act_complete": ("Afronden", "Complete"),
    "export_json": ("Inzage downloaden (JSON)", "Download the access export (JSON)"),
    "export_html": ("Inzage downloaden (leesbare pagina)", "Download the access export (page)"),
    "act_rectify": ("Contactgegevens corrigeren", "Correct contact data"),
    "email": ("E-mailadres", "E-mail address"),
    "phone": ("Telefoonnummer", "Phone number"),
    "act_erase": ("Wissen wat mag", "Erase what may be erased"),
    "act_object": ("Bezwaar beoordelen", "Decide the objection"),
    "activity_id": ("Activiteit uit het register (bijv. 4.4)", "Register activity (e.g. 4.4)"),
    "act_withdraw": ("Alle toestemmingen intrekken", "Withdraw every consent"),
    "erasure_result": ("Resultaat van het wissen", "Result of the erasure"),
    "category": ("Categorie", "Category"),
    "outcome": ("Uitkomst", "Outcome"),
    "steps_audited": (
        "Elke stap komt met uw medewerkernummer (als pseudoniem) in de auditlog.",
        "Every step is written to the audit log with your staff id (as a pseudonym).",
    ),
    "service": ("Klantenservice", "Customer service"),
    "lookup": ("Aansluiting opzoeken", "Look up a connection"),
    "lookup_help": (
        "Alleen met een open klantzaak voor deze aansluiting. Elke inzage staat in het "
        "inzageoverzicht van de klant.",
        "Only with an open service case for this connection. Every view shows in the "
        "customer's access log.",
    ),
    "case_purpose": ("Doel van de zaak", "Purpose of the case"),
    "purpose_1.4": ("compensatie en schade", "compensation and damage"),
    "purpose_1.5": ("klacht", "complaint"),
    "purpose_1.6": ("klantvraag", "customer question"),
    "show": ("Tonen", "Show"),
    "case": ("Zaak", "Case"),
    "my_cases": ("Mijn open zaken", "My open cases"),
    "opened_on": ("Geopend op", "Opened on"),
    "team_case": ("voor het team", "for the team"),
    "no_open_cases": ("U heeft geen open zaken.", "You have no open cases."),
    "lookup_by_ean": ("Opzoeken op EAN", "Look up by EAN"),
    "close_case": ("Zaak sluiten (inzage stopt)", "Close the case (access ends)"),
    "case_closed": ("De zaak is gesloten.", "The case is closed."),
    "address": ("Adres", "Address"),
    "product": ("Product", "Product"),
    "days_shown": ("Getoonde dagen", "Days shown"),
    "service_chart_desc": (
        "Verbruik in {unit} per maand over de dagen van de klant van de zaak.",
        "Use in {unit} per month over the days of the case's customer.",
    ),
}
