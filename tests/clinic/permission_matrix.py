"""Who may do what: the answer every URL of the URLconf gives each role.

This is the declared table that test_permission_matrix.py checks, request by request:
every named URL, as anonymous, assistant, practitioner, catalogue administrator,
privacy officer, superuser and a signed-in user with no role ("outsider"), by GET and,
for the URLs that take a form, by POST (with a valid CSRF token, so a 403 is the
permission's). A URL missing from the table fails the test.

It is written from what each role is meant to do (README, "Roles and sign-in"), not
read from the code: the views name a permission (clinic/access.py) and the roles carry
permissions (clinic/roles.py); this table says what should come of the two together.

To add a URL: add its name to PAGES (or, for a console model, to CONSOLE_MODELS) with
the roles that may open it, `args` naming the objects its path takes, and `post` when
it accepts a form. `python -m tests.clinic.permission_matrix` prints the whole grid.
"""

from dataclasses import dataclass, field

ANONYMOUS = "anonymous"
ASSISTANT = "assistant"
PRACTITIONER = "practitioner"
CATALOGUE_ADMIN = "catalogue_admin"
PRIVACY_OFFICER = "privacy_officer"
SUPERUSER = "superuser"
OUTSIDER = "outsider"  # signed in, no role
ROLES = (ANONYMOUS, ASSISTANT, PRACTITIONER, CATALOGUE_ADMIN, PRIVACY_OFFICER, SUPERUSER, OUTSIDER)

SIGNED_IN = frozenset(ROLES) - {ANONYMOUS}
EVERYONE = frozenset(ROLES)
NOBODY: frozenset[str] = frozenset()
FRONT_DESK = frozenset({ASSISTANT, PRACTITIONER, SUPERUSER})  # demographics, session list
CLINICIANS = frozenset({PRACTITIONER, SUPERUSER})  # the clinical record, injections
AUDITORS = frozenset({PRIVACY_OFFICER, SUPERUSER})  # the access log, sign-in records
CATALOGUE_READERS = frozenset({PRACTITIONER, CATALOGUE_ADMIN, SUPERUSER})
CATALOGUE_EDITORS = frozenset({CATALOGUE_ADMIN, SUPERUSER})
CONSOLE = frozenset({PRACTITIONER, CATALOGUE_ADMIN, PRIVACY_OFFICER, SUPERUSER})
SUPERUSERS = frozenset({SUPERUSER})


@dataclass(frozen=True)
class Answer:
    """An expected answer: a status, and for a redirect where it goes (`to`, or a URL
    starting with `to` when `prefix`)."""

    status: int
    to: str = ""
    label: str = ""
    prefix: bool = False

    def __str__(self) -> str:
        return self.label or str(self.status)


OK = Answer(200, label="200")
SIGN_IN = Answer(302, "/accounts/login/?next=", "sign-in", prefix=True)
REFUSED = Answer(403, label="403")
NOT_FOUND = Answer(404, label="404")
POST_ONLY = Answer(405, label="405")
# A POST the view handled for this user: saved, redirected, or the form with its errors
# (200, 302 or 400). The tests of each page check what it does; here, only who may.
ACCEPTED = Answer(0, label="accepted")


def redirect(to: str, prefix: bool = False) -> Answer:
    return Answer(302, to, f"302 {to}{'…' if prefix else ''}", prefix)


def allow(roles: frozenset, answer: Answer = OK, others: Answer = REFUSED) -> dict[str, Answer]:
    """`answer` for `roles`, `others` for the rest; anonymous is sent to sign in."""
    answers = {role: answer if role in roles else others for role in ROLES}
    if ANONYMOUS not in roles:
        answers[ANONYMOUS] = SIGN_IN
    return answers


def post_only() -> dict[str, Answer]:
    """A GET of a form-only URL: 405 for every signed-in user, whatever their role."""
    return allow(SIGNED_IN, POST_ONLY)


@dataclass(frozen=True)
class Rule:
    get: dict[str, Answer]
    post: dict[str, Answer] | None = None  # None: the URL takes no form
    # The objects its path takes, in order, by name (see the test's world).
    args: tuple[str, ...] = ()
    query: str = ""


def form(roles: frozenset, args: tuple[str, ...] = (), query: str = "") -> Rule:
    """A page with a form: the roles open it and post it; others get 403 for both."""
    return Rule(allow(roles), allow(roles, ACCEPTED), args, query)


def action(roles: frozenset, args: tuple[str, ...]) -> Rule:
    """A URL that only takes a POST (a button on another page)."""
    return Rule(post_only(), allow(roles, ACCEPTED), args)


def page(roles: frozenset, args: tuple[str, ...] = (), query: str = "") -> Rule:
    return Rule(allow(roles), None, args, query)


PATIENT = ("patient",)
MAP = ("map",)
SESSION = ("session",)

PAGES: dict[str, Rule] = {
    # Open to anyone, signed in or not.
    "healthz": page(EVERYONE),
    "favicon": Rule(allow(EVERYONE, redirect("/static/", prefix=True))),
    "login": Rule(
        {**allow(SIGNED_IN, redirect("/")), ANONYMOUS: OK},  # signed in: to the dashboard
        allow(EVERYONE, ACCEPTED),
    ),
    # Every signed-in user: the dashboard shows what their role may see, and their account.
    "home": page(SIGNED_IN),
    "logout": Rule(post_only()),  # the POST signs out (tests/clinic/test_sign_in.py)
    "two_factor_verify": Rule(allow(SIGNED_IN, redirect("/")), allow(SIGNED_IN, ACCEPTED)),
    "two_factor_setup": form(SIGNED_IN),  # already verified: a new phone replaces the old
    "password_change": form(SIGNED_IN),
    "account_language": form(SIGNED_IN),
    "password_change_done": page(SIGNED_IN),
    # Demographics and the session list: the front desk.
    "patients:list": page(FRONT_DESK),
    "patients:create": form(FRONT_DESK),
    "patients:chart": page(FRONT_DESK, PATIENT),  # clinical sections for clinicians only
    "patients:edit": form(FRONT_DESK, PATIENT),
    "treatments:session_list": page(FRONT_DESK),
    # The clinical record: clinicians.
    "patients:access": page(CLINICIANS, PATIENT),
    "patients:archive": action(CLINICIANS, PATIENT),
    "patients:consent_new": form(CLINICIANS, PATIENT),
    "patients:consent_withdraw": action(CLINICIANS, ("patient", "consent")),
    "patients:consent_signature": page(CLINICIANS, ("patient", "consent")),
    "patients:photo_new": form(CLINICIANS, PATIENT),
    "patients:photo_compare": page(CLINICIANS, PATIENT, "region=Right+thigh&view=front"),
    "patients:photo_full": page(CLINICIANS, ("patient", "photo")),
    "patients:photo_thumbnail": page(CLINICIANS, ("patient", "photo")),
    "patients:measurements": page(CLINICIANS, PATIENT),
    "patients:measurement_new": form(CLINICIANS, PATIENT),
    "treatments:map_new": form(CLINICIANS, PATIENT),
    "treatments:map": page(CLINICIANS, MAP),
    "treatments:map_plan": form(CLINICIANS, MAP),
    "treatments:map_status": action(CLINICIANS, MAP),
    "treatments:map_needles": action(CLINICIANS, MAP),
    "treatments:session_new": form(CLINICIANS, PATIENT),
    "treatments:booklet": page(CLINICIANS, PATIENT),
    "patient_fhir": page(CLINICIANS, PATIENT),
    "treatments:session": page(CLINICIANS, SESSION),
    "treatments:session_edit": form(CLINICIANS, SESSION),
    # A row's lot fields for the chosen mixture (the session form's script fetches them).
    "treatments:injection_lots": page(CLINICIANS, query="prefix=form-0"),
    "treatments:session_sign": form(CLINICIANS, SESSION),
    "treatments:session_print": page(CLINICIANS, SESSION),
    "treatments:session_pdf": page(CLINICIANS, SESSION),
    "treatments:session_pdf_amended": page(CLINICIANS, ("amended",)),  # signed, amended
    "treatments:side_effect_new": form(CLINICIANS, SESSION),
    "treatments:side_effect_resolve": action(CLINICIANS, ("session", "side_effect")),
    "treatments:side_effect_review": action(CLINICIANS, ("session", "side_effect")),
    "treatments:amendment_new": action(CLINICIANS, SESSION),
    "treatments:lots": page(CLINICIANS),
    "treatments:lot_recall": page(CLINICIANS, ("lot",)),
    "treatments:lot_recall_csv": page(CLINICIANS, ("lot",)),
    "treatments:lot_recall_print": page(CLINICIANS, ("lot",)),
    # Quarantine: whoever reads the catalogue may set one (lifting it is the catalogue
    # administrator's, checked in tests/treatments/test_lot_quarantine.py).
    "treatments:lot_quarantine": action(CATALOGUE_READERS, ("lot",)),
    # The clinic-wide access-log search: the privacy officer.
    "audit": page(AUDITORS),
    # The console's own pages. A signed-in user without a console role is sent to the
    # console's login, which refuses them: the test follows that one redirect.
    "admin:index": page(CONSOLE),
    # The catalogue's app page lists only what the role may see: nothing is a 404.
    "admin:app_list": Rule(
        {**allow(CATALOGUE_READERS), PRIVACY_OFFICER: NOT_FOUND}, args=("app_label",)
    ),
    # One sign-in page for the clinic: the console's refuses anyone already signed in.
    "admin:login": page(NOBODY),
    # Signing out takes a POST; without the console role it leads to the console's index.
    "admin:logout": Rule(
        {**allow(CONSOLE, POST_ONLY), ASSISTANT: redirect("/admin/"), OUTSIDER: redirect("/admin/")}
    ),
    "admin:password_change": form(CONSOLE),
    "admin:password_change_done": page(CONSOLE),
    "admin:jsi18n": page(CONSOLE),
    # Search-as-you-type for a compound field: whoever may read compounds.
    "admin:autocomplete": page(
        CATALOGUE_READERS, query="app_label=treatments&model_name=compoundlot&field_name=compound"
    ),
    # "View on site" for a patient only redirects to the chart, which checks again.
    "admin:view_on_site": Rule(
        allow(CONSOLE, redirect("/patients/", prefix=True)), args=("patient_type", "patient")
    ),
    # A superuser resets a colleague's password; keys of authenticators are never shown.
    "admin:auth_user_password_change": form(SUPERUSERS, ("auth_user",)),
    "admin:otp_totp_totpdevice_config": page(NOBODY, ("otp_totp_totpdevice",)),
    "admin:otp_totp_totpdevice_qrcode": page(NOBODY, ("otp_totp_totpdevice",)),
}


@dataclass(frozen=True)
class ConsoleModel:
    """Who may list and read, add, change and delete a model in the console."""

    view: frozenset
    add: frozenset = NOBODY
    change: frozenset = NOBODY
    delete: frozenset = NOBODY  # records refer to nearly everything: nobody deletes
    readers: frozenset = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "readers", self.view | self.change)


# The catalogue: practitioners read it, the catalogue administrator keeps it; nothing is
# deleted (retired with "active" instead).
CATALOGUE = ConsoleModel(CATALOGUE_READERS, CATALOGUE_EDITORS, CATALOGUE_EDITORS)
# Evidence: read by the privacy officer, written only by the application.
LOGS = ConsoleModel(AUDITORS)
# Accounts and authenticators: the superuser alone.
ACCOUNTS = ConsoleModel(SUPERUSERS, SUPERUSERS, SUPERUSERS, SUPERUSERS)

CONSOLE_MODELS: dict[str, ConsoleModel] = {
    "treatments_compound": CATALOGUE,
    "treatments_compoundlot": CATALOGUE,
    "treatments_compoundcategory": CATALOGUE,
    "treatments_formula": CATALOGUE,
    "treatments_formularyrule": CATALOGUE,
    "treatments_bodyregion": CATALOGUE,
    "treatments_indication": CATALOGUE,
    "clinic_jurisdiction": CATALOGUE,
    "clinic_location": CATALOGUE,
    # One rule per phototype, shipped for all six: changed, never added.
    "treatments_needlerule": ConsoleModel(CATALOGUE_READERS, change=CATALOGUE_EDITORS),
    # A new wording is a new version; a signed consent points at its version for ever.
    "patients_consenttemplate": ConsoleModel(CATALOGUE_READERS, add=CATALOGUE_EDITORS),
    "clinic_accesslog": LOGS,
    "axes_accessattempt": LOGS,
    "clinic_signinlog": LOGS,  # axes' sign-in log, under a name of its own
    "axes_accessfailurelog": LOGS,
    # Patients' sessions: read-only, and only for a superuser (and logged).
    "treatments_treatmentsession": ConsoleModel(SUPERUSERS),
    "auth_user": ACCOUNTS,
    "auth_group": ACCOUNTS,
    "otp_totp_totpdevice": ACCOUNTS,
    "otp_static_staticdevice": ACCOUNTS,
}


def _console_rules(model: str, who: ConsoleModel) -> dict[str, Rule]:
    obj = (model,)
    return {
        f"admin:{model}_changelist": page(who.readers),
        f"admin:{model}_history": page(who.readers, obj),
        f"admin:{model}_add": Rule(allow(who.add), allow(who.add, ACCEPTED)),
        # Read-only for those who may only view; a POST needs the change right.
        f"admin:{model}_change": Rule(allow(who.readers), allow(who.change, ACCEPTED), obj),
        # An empty POST only shows the confirmation again: nothing is deleted here.
        f"admin:{model}_delete": Rule(allow(who.delete), allow(who.delete, ACCEPTED), obj),
    }


def matrix() -> dict[str, Rule]:
    """Every URL name with its rule: PAGES and the console models' pages."""
    rules = dict(PAGES)
    for model, who in CONSOLE_MODELS.items():
        rules.update(_console_rules(model, who))
    return rules


MATRIX = matrix()


def grid() -> str:
    """The table as Markdown, one row per URL and method."""
    lines = ["| URL name | method | " + " | ".join(ROLES) + " |"]
    lines.append("|" + "---|" * (len(ROLES) + 2))
    for name, rule in sorted(MATRIX.items()):
        for method, answers in (("GET", rule.get), ("POST", rule.post)):
            if answers is not None:
                cells = " | ".join(str(answers[role]) for role in ROLES)
                lines.append(f"| {name} | {method} | {cells} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(grid())
