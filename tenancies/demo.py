"""Demonstration data: a believable landlord, generated reproducibly and loaded set-based.

Used by `manage.py seed_demo`. Everything is drawn from one seeded `random.Random`, so the same
command on the same starting database produces the same rows. The large tables are loaded with
PostgreSQL COPY, with primary keys reserved up front from the tables' sequences; the few small
tables (territory, estates, buildings, users) go through `bulk_create`, whose returned pks are used.
"""

from __future__ import annotations

import random
import unicodedata
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import Group
from django.db import connection

from .models import (
    Accessibility,
    Agency,
    Annex,
    AnnexKind,
    AplZone,
    Building,
    CeilingZone,
    ChargeType,
    Civility,
    Commune,
    Contingent,
    Dwelling,
    DwellingCharge,
    DwellingStatus,
    Estate,
    Financing,
    Household,
    Lease,
    LeaseAnnex,
    LeaseCharge,
    LeaseStatus,
    LeaseTransition,
    PaymentMethod,
    Person,
    PersonRole,
    User,
)
from .roles import Role
from .services import default_commandement_delay, next_lease_numbers

SEED = 2026
DEFAULT_DWELLINGS = 1500
DEFAULT_PASSWORD = "Locatif-Demo-2026"  # noqa: S105  # nosec B105 - public demo password, printed by the command
DEMO_URL = "http://127.0.0.1:8000/"

# The demo's "today": fixed so that the data is reproducible (notices end 1-3 months after it).
REFERENCE_DATE = date(2026, 12, 1)
FIRST_LEASE_DAY = date(1995, 1, 1)
LAST_LEASE_START = date(2026, 10, 1)
PARIS = ZoneInfo("Europe/Paris")

# Share of dwellings let, and what the others are; share of let dwellings under notice.
LET_RATE = 0.92
NOT_LET_STATUSES = ((DwellingStatus.VACANT, 70), (DwellingStatus.RESERVED, 15), (DwellingStatus.WORKS, 15))
NOTICE_RATE = 0.01
# One past (ended) lease: on this share of eligible let dwellings, and of the non-let ones
# (a vacant flat usually had a tenant): about 10 % of all dwellings overall.
PAST_LEASE_RATE_LET = 0.065
PAST_LEASE_RATE_NOT_LET = 0.6
EXTRA_ESTATE_SIZE = (150, 450)  # extra estates average ~300 dwellings

# --- Territory -------------------------------------------------------------------------------

AGENCIES = [
    ("SA", "Agence Seine Aval", "14 avenue de la République, 78200 Mantes-la-Jolie", "01 30 94 27 50"),
    ("VGP", "Agence Versailles Grand Parc", "22 rue de la Paroisse, 78000 Versailles", "01 39 24 61 80"),
]

# insee, name, postcode, ceiling zone, APL zone, tense zone, agency
COMMUNES = [
    ("78361", "Mantes-la-Jolie", "78200", CeilingZone.ILE_DE_FRANCE, AplZone.II, False, "SA"),
    ("78335", "Limay", "78520", CeilingZone.ILE_DE_FRANCE, AplZone.II, False, "SA"),
    ("78646", "Versailles", "78000", CeilingZone.ILE_DE_FRANCE, AplZone.I, True, "VGP"),
]
# Where extra estates go when the demo grows beyond the base ones.
EXTRA_COMMUNE_WEIGHTS = {"78361": 40, "78335": 25, "78646": 35}


@dataclass
class EstateSpec:
    code: str
    name: str
    insee: str
    built_year: int
    streets: list[str]
    floors: tuple[int, int]  # storeys above the ground floor, min/max per building
    per_floor: tuple[int, int]  # dwellings per landing
    size: int = 0  # dwellings to generate
    weight: int = 0  # share of the base demo
    qpv: bool = False
    entrance: str = "Hall"
    # Filled at generation time.
    agency_code: str = ""
    pk: int | None = None
    buildings: list[tuple[Building, int, int]] = field(default_factory=list)  # (building, per floor, dwellings)


BASE_ESTATES = [
    EstateSpec(
        "VFP",
        "Val Fourré – Les Peintres",
        "78361",
        1968,
        ["rue Eugène Delacroix", "rue Paul Cézanne", "rue Édouard Manet", "rue Camille Pissarro", "rue Georges Braque"],
        (9, 15),
        (4, 6),
        weight=360,
        qpv=True,
        entrance="Hall",
    ),
    EstateSpec(
        "GAT",
        "Gassicourt – Les Tilleuls",
        "78361",
        1975,
        ["rue des Tilleuls", "allée des Charmes", "rue de Gassicourt"],
        (4, 8),
        (3, 4),
        weight=180,
        entrance="Escalier",
    ),
    EstateSpec(
        "SUL",
        "Résidence Sully",
        "78361",
        1992,
        ["boulevard Sully", "rue du Maréchal Foch"],
        (3, 5),
        (2, 4),
        weight=150,
        entrance="Entrée",
    ),
    EstateSpec(
        "HDL",
        "Les Hauts de Limay",
        "78335",
        1972,
        ["avenue du Président Wilson", "rue de la Fosse aux Loups", "allée des Acacias"],
        (4, 10),
        (3, 5),
        weight=220,
        entrance="Escalier",
    ),
    EstateSpec(
        "CEL",
        "Résidence des Célestins",
        "78335",
        2008,
        ["rue des Célestins", "allée du Couvent"],
        (2, 5),
        (2, 4),
        weight=120,
        entrance="Entrée",
    ),
    EstateSpec(
        "PCF",
        "Porchefontaine – Les Marronniers",
        "78646",
        1964,
        ["rue Rémont", "rue de Porchefontaine", "allée des Marronniers"],
        (4, 9),
        (3, 5),
        weight=200,
        entrance="Hall",
    ),
    EstateSpec(
        "CHA",
        "Résidence des Chantiers",
        "78646",
        2015,
        ["rue des Chantiers", "rue Édouard Charton"],
        (3, 7),
        (3, 5),
        weight=130,
        entrance="Entrée",
    ),
    EstateSpec(
        "CLG",
        "Clagny-Glatigny",
        "78646",
        1959,
        ["boulevard de la Reine", "rue de Clagny", "avenue de Villeneuve-l'Étang"],
        (3, 6),
        (2, 4),
        weight=140,
        entrance="Escalier",
    ),
]

# Extra estates: "<prefix> <theme>", code = prefix abbreviation + theme abbreviation.
ESTATE_PREFIXES = [
    ("Résidence", "RE"),
    ("Les Jardins", "JA"),
    ("Le Clos", "CL"),
    ("Les Terrasses", "TE"),
    ("Le Parc", "PA"),
    ("Les Hauts", "HA"),
    ("Le Domaine", "DO"),
    ("Les Allées", "AL"),
    ("Le Hameau", "HM"),
    ("Les Coteaux", "CO"),
    ("Le Square", "SQ"),
    ("Les Balcons", "BA"),
]
ESTATE_THEMES = [
    "des Tilleuls", "des Érables", "des Acacias", "des Lilas", "du Moulin", "de la Seine", "du Val",
    "des Vignes", "des Sablons", "de la Vaucouleurs", "du Mantois", "du Château", "des Peupliers",
    "de la Source", "des Coquelicots", "des Bleuets", "du Bois", "des Prés", "de la Forêt", "des Cèdres",
    "du Lavoir", "de l'Étang", "des Roches", "des Vergers", "de la Butte", "du Belvédère", "des Noyers",
    "des Saules", "des Glycines", "des Hortensias", "des Pins", "de la Fontaine", "du Plateau",
    "des Grands Champs", "de la Plaine", "des Fauvettes", "des Mésanges", "des Tourelles",
    "de la Croix Blanche", "des Iris",
]  # fmt: skip
EXTRA_STREETS = [
    "rue Victor Hugo", "avenue Jean Jaurès", "rue Jules Ferry", "allée des Lilas", "rue Pasteur",
    "rue de la République", "rue Émile Zola", "boulevard Gambetta", "rue du Général de Gaulle",
    "rue Jean Moulin", "rue Louise Michel", "allée Simone Veil", "rue des Écoles", "chemin des Vignes",
    "rue de la Paix", "rue Pierre Curie", "rue Condorcet", "rue Voltaire", "rue Lamartine",
    "allée Albert Camus", "rue Molière", "rue Jean de La Fontaine", "avenue Georges Clemenceau",
    "rue Anatole France", "rue Aristide Briand", "rue du Moulin", "rue des Peupliers", "allée des Érables",
    "rue du Stade", "rue Henri Barbusse", "rue Paul Éluard", "rue Gabriel Péri", "avenue de la Libération",
    "rue Camille Claudel", "rue Olympe de Gouges", "rue Nelson Mandela", "rue Jacques Prévert",
    "rue Romain Rolland", "rue Charles Péguy", "rue Antoine de Saint-Exupéry",
]  # fmt: skip
# Forwarding addresses of former tenants.
OTHER_TOWNS = [
    ("Les Mureaux", "78130"), ("Poissy", "78300"), ("Mantes-la-Ville", "78711"), ("Aubergenville", "78410"),
    ("Trappes", "78190"), ("Le Chesnay-Rocquencourt", "78150"), ("Évreux", "27000"), ("Vernon", "27200"),
    ("Paris", "75018"), ("Rouen", "76000"), ("Conflans-Sainte-Honorine", "78700"), ("Chartres", "28000"),
]  # fmt: skip

# --- People ----------------------------------------------------------------------------------

SURNAMES = [
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau", "Laurent",
    "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel", "Fournier", "Girard",
    "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent", "Muller", "Lefèvre", "Faure", "André",
    "Mercier", "Blanc", "Guérin", "Boyer", "Garnier", "Chevalier", "François", "Legrand", "Gauthier", "Garcia",
    "Perrin", "Robin", "Clément", "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Masson", "Marchand",
    "Duval", "Denis", "Dumont", "Lemaire", "Noël", "Meyer", "Dufour", "Meunier", "Brun", "Blanchard",
    "Giraud", "Joly", "Rivière", "Lucas", "Brunet", "Gaillard", "Barbier", "Arnaud", "Martinez", "Gérard",
    "Roche", "Renard", "Schmitt", "Roy", "Leroux", "Colin", "Vidal", "Caron", "Picard", "Roger",
    "Fabre", "Aubert", "Lemoine", "Renaud", "Dumas", "Lacroix", "Olivier", "Philippe", "Bourgeois", "Benoît",
    "Rey", "Leclerc", "Payet", "Rolland", "Guillaume", "Lecomte", "Lopez", "Dupuy", "Guillot", "Hubert",
    "Berger", "Carpentier", "Sanchez", "Dupuis", "Moulin", "Deschamps", "Huet", "Vasseur", "Perez", "Boucher",
    "Fleury", "Royer", "Klein", "Jacquet", "Adam", "Poirier", "Marty", "Aubry", "Guyot", "Carré",
    "Renault", "Charpentier", "Ménard", "Maillard", "Baron", "Bertin", "Bailly", "Hervé", "Fernandez", "Le Gall",
    "Léger", "Prévost", "Le Roux", "Germain", "Breton", "Langlois", "Rémy", "Le Goff", "Pelletier", "Lévêque",
    "Leblanc", "Lebrun", "Weber", "Boulanger", "Étienne", "Lemaître", "Maréchal", "Barthélemy", "Da Silva",
    "Dos Santos", "Ferreira", "Pereira", "Nguyen", "Tran", "Diallo", "Traoré", "Camara", "Cissé", "Koné",
    "Benali", "Haddad", "Mansouri", "Bouzid", "Belkacem", "Chevallier", "Delaunay", "Pasquier",
]  # fmt: skip

# First names by sex and by generation (born before 1962, 1962-1987, after 1987).
FIRST_NAMES = {
    ("F", 0): [
        "Monique", "Jacqueline", "Françoise", "Martine", "Danielle", "Ginette", "Odile", "Josiane", "Nicole",
        "Chantal", "Colette", "Simone", "Yvette", "Denise", "Geneviève", "Éliane", "Annie", "Fatima", "Huguette",
        "Marie-Thérèse", "Michèle", "Brigitte", "Christiane", "Paulette", "Zohra",
    ],
    ("F", 1): [
        "Nathalie", "Isabelle", "Sylvie", "Catherine", "Christine", "Valérie", "Sandrine", "Stéphanie",
        "Véronique", "Sophie", "Céline", "Patricia", "Aurélie", "Laurence", "Corinne", "Virginie", "Hélène",
        "Karine", "Florence", "Delphine", "Agnès", "Nadia", "Samia", "Aïcha", "Fatoumata", "Marie",
    ],
    ("F", 2): [
        "Léa", "Manon", "Chloé", "Emma", "Inès", "Jade", "Louise", "Lina", "Sarah", "Camille", "Pauline",
        "Mathilde", "Océane", "Clémence", "Anaïs", "Justine", "Lucie", "Noémie", "Maëlle", "Juliette", "Alice",
        "Zoé", "Mila", "Nour", "Héloïse", "Yasmine", "Aminata", "Élodie",
    ],
    ("M", 0): [
        "Jean", "Pierre", "Michel", "André", "Jacques", "Bernard", "Gérard", "René", "Roger", "Marcel",
        "Robert", "Henri", "Georges", "Claude", "Jean-Pierre", "Jean-Claude", "Alain", "Serge", "Daniel",
        "Mohamed", "Ahmed", "Lucien", "Guy", "Raymond", "Maurice",
    ],
    ("M", 1): [
        "Philippe", "Patrick", "Christophe", "Éric", "Frédéric", "Laurent", "Stéphane", "Olivier", "Thierry",
        "Pascal", "Sébastien", "Nicolas", "David", "Didier", "Vincent", "Jérôme", "Bruno", "Loïc", "Yannick",
        "Cédric", "Grégory", "Fabrice", "Hervé", "Karim", "Rachid", "Samir", "Mamadou", "Jean-Luc",
    ],
    ("M", 2): [
        "Lucas", "Hugo", "Louis", "Gabriel", "Léo", "Raphaël", "Arthur", "Jules", "Adam", "Nathan", "Théo",
        "Enzo", "Mathis", "Noah", "Ethan", "Maxime", "Kévin", "Romain", "Yanis", "Rayan", "Ismaël", "Bilal",
        "Mehdi", "Moussa", "Clément", "Baptiste", "Timéo", "Aurélien",
    ],
}  # fmt: skip

# Typology mix, living areas (m², min-max) and household sizes per typology.
TYPOLOGY_WEIGHTS = {"T1": 8, "T2": 20, "T3": 35, "T4": 25, "T5": 10, "T6": 2}
LIVING_AREA = {"T1": (22, 33), "T2": (40, 52), "T3": (57, 72), "T4": (70, 88), "T5": (85, 105), "T6": (100, 125)}
HOUSEHOLD_SIZES = {
    "T1": ((1, 90), (2, 10)),
    "T2": ((1, 50), (2, 45), (3, 5)),
    "T3": ((1, 15), (2, 30), (3, 35), (4, 20)),
    "T4": ((2, 15), (3, 30), (4, 35), (5, 20)),
    "T5": ((3, 15), (4, 35), (5, 35), (6, 15)),
    "T6": ((4, 20), (5, 40), (6, 40)),
}
FINANCING_WEIGHTS = {Financing.PLUS: 70, Financing.PLAI: 18, Financing.PLS: 8, Financing.PLI: 4}
# Convention ceilings (cents per m² per month), zone II; zone I adds APL_ZONE_I_BONUS.
MAX_RENT_PER_M2 = {Financing.PLAI: 580, Financing.PLUS: 650, Financing.PLS: 990, Financing.PLI: 1250}
APL_ZONE_I_BONUS = 50
CONTINGENT_WEIGHTS = {
    Contingent.PREFET: 25,
    Contingent.ACTION_LOGEMENT: 30,
    Contingent.COLLECTIVITE: 20,
    Contingent.BAILLEUR: 25,
}
PAYMENT_WEIGHTS = {
    PaymentMethod.DIRECT_DEBIT: 40,
    PaymentMethod.TRANSFER: 25,
    PaymentMethod.TIP: 15,
    PaymentMethod.CHEQUE: 15,
    PaymentMethod.CASH: 5,
}
COLD_WATER_BASE = {"T1": 1500, "T2": 2000, "T3": 2600, "T4": 3200, "T5": 3800, "T6": 4400}  # cents
# kind -> (reference letter, share of dwellings min/max, rent in cents min/max)
ANNEX_KINDS = {
    AnnexKind.PARKING: ("P", (0.15, 0.45), (1500, 4500)),
    AnnexKind.GARAGE: ("G", (0.0, 0.08), (4500, 8500)),
    AnnexKind.CELLAR: ("C", (0.1, 0.5), (800, 1800)),
}
ANNEX_RENT_ZONE_I_PERCENT = 150

# --- Staff logins ----------------------------------------------------------------------------

# username, first name, last name, role, agency codes, administrator (staff + superuser)
DEMO_USERS = [
    ("resp.seine", "Catherine", "Lefèvre", Role.RESPONSABLE_AGENCE, ("SA",), False),
    ("clientele.seine", "Karim", "Benali", Role.CHARGE_CLIENTELE, ("SA",), False),
    ("clientele.versailles", "Hélène", "Dubois", Role.CHARGE_CLIENTELE, ("VGP",), False),
    ("edl.seine", "Loïc", "Le Gall", Role.AGENT_EDL, ("SA",), False),
    ("apl.seine", "Sandrine", "Moreau", Role.AGENT_APL, ("SA",), False),
    ("recouvrement.seine", "Julien", "Mercier", Role.CHARGE_PRECONTENTIEUX, ("SA",), False),
    ("quittancement", "Nathalie", "Garnier", Role.CHARGE_QUITTANCEMENT, ("SA", "VGP"), False),
    ("commission", "Bernard", "Roussel", Role.MEMBRE_COMMISSION, ("SA", "VGP"), False),
    ("direction", "Isabelle", "Fontaine", Role.DIRECTION, (), False),
    ("admin.si", "Thomas", "Girard", Role.ADMINISTRATEUR, (), True),
]


# --- Helpers ---------------------------------------------------------------------------------


def money(cents: int) -> Decimal:
    """Integer cents -> Decimal with exactly two places."""
    return Decimal(cents).scaleb(-2)


def ascii_slug(text: str) -> str:
    """'Le Gall' -> 'le-gall', 'Hélène' -> 'helene' (for e-mail addresses)."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "-".join(stripped.lower().replace("'", " ").split())


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


def years_before(day: date, years: int, extra_days: int = 0) -> date:
    return day - timedelta(days=int(years * 365.25) + extra_days)


def weighted(weights: dict) -> tuple[list, list]:
    return list(weights), list(weights.values())


def reserve_ids(model, count: int) -> list[int]:
    """`count` primary keys taken from the table's sequence (one round trip; gaps are harmless)."""
    if not count:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, count],
        )
        return [n for (n,) in cursor.fetchall()]


def copy_rows(model, columns: list[str], rows) -> int:
    """Load rows (tuples in `columns` order, field names) into the model's table with COPY."""
    meta = model._meta
    quoted = ", ".join(connection.ops.quote_name(meta.get_field(name).column) for name in columns)
    count = 0
    with connection.cursor() as cursor, cursor.copy(f"COPY {meta.db_table} ({quoted}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


# --- Reference data and logins ---------------------------------------------------------------


def ensure_territory() -> tuple[dict[str, Agency], dict[str, Commune]]:
    """Agencies and communes of the demo (created once, left as they are afterwards)."""
    agencies = {}
    for code, name, address, phone in AGENCIES:
        agencies[code], _ = Agency.objects.get_or_create(
            code=code, defaults={"name": name, "address": address, "phone": phone}
        )
    communes = {}
    for insee, name, postcode, ceiling_zone, apl_zone, tense, _agency in COMMUNES:
        communes[insee], _ = Commune.objects.get_or_create(
            insee_code=insee,
            defaults={
                "name": name,
                "postcode": postcode,
                "ceiling_zone": ceiling_zone,
                "apl_zone": apl_zone,
                "tense_zone": tense,
            },
        )
    return agencies, communes


def ensure_users(password: str) -> list[tuple[str, str, str]]:
    """One login per role, reset to its role, agencies and password. Returns (username, role, agencies)."""
    agencies = {a.code: a for a in Agency.objects.filter(code__in=[c for c, *_ in AGENCIES])}
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in Role.values}
    encoded = None  # one hash shared by all demo users: hashing is deliberately slow
    verified: set[str] = set()
    table = []
    for username, first_name, last_name, role, agency_codes, admin in DEMO_USERS:
        wanted = {
            "first_name": first_name,
            "last_name": last_name,
            "email": f"{username}@example.fr",
            "is_active": True,
            "is_staff": admin,
            "is_superuser": admin,
        }
        user, created = User.objects.get_or_create(username=username, defaults=wanted)
        changed = [name for name, value in wanted.items() if getattr(user, name) != value]
        for name in changed:
            setattr(user, name, wanted[name])
        if user.password not in verified:
            if not created and user.has_usable_password() and check_password(password, user.password):
                verified.add(user.password)
            else:
                if encoded is None:
                    encoded = make_password(password)
                    verified.add(encoded)
                user.password = encoded
                changed.append("password")
        if created or changed:
            user.save()
        user.groups.set([groups[role]])
        user.agencies.set([agencies[code] for code in agency_codes if code in agencies])
        if role in (Role.DIRECTION, Role.ADMINISTRATEUR):
            territory = "Toutes (accès global)"
        else:
            territory = ", ".join(agency_codes)
        table.append((username, Role(role).label, territory))
    return table


# --- Stock plan ------------------------------------------------------------------------------


def split(total: int, weights: list[int]) -> list[int]:
    """Integer shares of `total` proportional to `weights` (largest remainders)."""
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    shares = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: exact[i] - shares[i], reverse=True)
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


def plan_estates(rng: random.Random, existing_dwellings: int, target: int) -> list[EstateSpec]:
    """The estates to create so that the stock reaches `target` dwellings."""
    to_add = target - existing_dwellings
    if to_add <= 0:
        return []
    commune_agency = {insee: agency for insee, *_, agency in COMMUNES}
    taken_codes = set(Estate.objects.values_list("code", flat=True))
    taken_names = set(Estate.objects.values_list("name", flat=True))
    plans: list[EstateSpec] = []

    base = [spec for spec in BASE_ESTATES if spec.code not in taken_codes]
    if len(base) == len(BASE_ESTATES):  # fresh demo: the 8 named estates first
        base_total = min(to_add, DEFAULT_DWELLINGS)
        for spec, size in zip(base, split(base_total, [s.weight for s in base]), strict=True):
            plans.append(replace(spec, size=size, agency_code=commune_agency[spec.insee], buildings=[]))
            taken_codes.add(spec.code)
            taken_names.add(spec.name)
        to_add -= base_total

    names = [(p, pc, t) for p, pc in ESTATE_PREFIXES for t in ESTATE_THEMES]
    rng.shuffle(names)
    insees, weights = weighted(EXTRA_COMMUNE_WEIGHTS)
    round_number = 1
    while to_add > 0:
        if not names:
            round_number += 1
            names = [(p, pc, t) for p, pc in ESTATE_PREFIXES for t in ESTATE_THEMES]
            rng.shuffle(names)
        prefix, prefix_code, theme = names.pop()
        name = f"{prefix} {theme}" + (f" {_roman(round_number)}" if round_number > 1 else "")
        if name in taken_names:
            continue
        code = prefix_code + ascii_slug(theme.split()[-1].split("'")[-1]).replace("-", "")[:3].upper()
        if round_number > 1:
            code += str(round_number)
        suffix = 2
        unique = code
        while unique in taken_codes:
            unique = f"{code}{suffix}"
            suffix += 1
        size = min(to_add, rng.randint(*EXTRA_ESTATE_SIZE))
        if 0 < to_add - size < EXTRA_ESTATE_SIZE[0] // 2:
            size = to_add  # no tiny last estate
        insee = rng.choices(insees, weights)[0]
        built = rng.randint(1955, 2022)
        if built < 1976:
            floors, per_floor = (4, 14), (3, 6)
        elif built < 1996:
            floors, per_floor = (2, 6), (2, 4)
        else:
            floors, per_floor = (2, 7), (2, 5)
        plans.append(
            EstateSpec(
                unique,
                name,
                insee,
                built,
                rng.sample(EXTRA_STREETS, rng.randint(1, 3)),
                floors,
                per_floor,
                size=size,
                entrance=rng.choice(["Hall", "Escalier", "Entrée"]),
                agency_code=commune_agency[insee],
            )
        )
        taken_codes.add(unique)
        taken_names.add(name)
        to_add -= size
    return plans


def _roman(n: int) -> str:
    numerals = [(10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    out = ""
    for value, letter in numerals:
        while n >= value:
            out += letter
            n -= value
    return out


def _floor_label(floor: int) -> str:
    return "RDC" if floor == 0 else "1er étage" if floor == 1 else f"{floor}e étage"


def _building_name(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA ..."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def plan_buildings(rng: random.Random, spec: EstateSpec) -> list[tuple[Building, int, int]]:
    """Buildings of an estate holding `spec.size` dwellings: (unsaved building, dwellings per floor, dwellings)."""
    out = []
    remaining = spec.size
    street_numbers = {street: rng.randrange(1, 40, 2) for street in spec.streets}
    index = 0
    while remaining > 0:
        floors = rng.randint(*spec.floors)
        per_floor = rng.randint(*spec.per_floor)
        count = min(remaining, (floors + 1) * per_floor)
        floors = (count - 1) // per_floor  # a truncated last building is just lower
        street = spec.streets[index % len(spec.streets)]
        number = street_numbers[street]
        street_numbers[street] += rng.choice((2, 2, 4, 6))
        elevator = floors >= 5 or (spec.built_year >= 2000 and floors >= 3)
        building = Building(
            name=_building_name(index),
            address=f"{number} {street}",
            entrance=f"{spec.entrance} {index + 1}",
            floors=floors,
            has_elevator=elevator,
        )
        out.append((building, per_floor, count))
        remaining -= count
        index += 1
    return out


# --- Generation ------------------------------------------------------------------------------


class Generator:
    """Turns planned estates into row tuples for COPY, drawing everything from one RNG.

    Dwellings, annexes, households and leases are numbered locally (their index in their list) while
    generating; `load` reserves exactly that many primary keys and maps the indexes onto them.
    """

    def __init__(self, rng: random.Random, charge_types: dict[str, int], communes: dict[str, Commune]):
        self.rng = rng
        self.charge_types = charge_types
        self.communes = communes
        self.dwellings: list[tuple] = []
        self.dwelling_charges: list[tuple] = []
        self.annexes: list[tuple] = []
        self.households: list[tuple] = []
        self.people: list[tuple] = []
        self.leases: list[list] = []
        self.lease_charges: list[tuple] = []
        self.lease_annexes: list[tuple] = []
        self.transitions: list[tuple] = []
        self.email_counts = self._existing_email_counts()
        self.slug_cache: dict[str, str] = {}
        self.typologies, self.typology_weights = weighted(TYPOLOGY_WEIGHTS)
        self.financings, self.financing_weights = weighted(FINANCING_WEIGHTS)
        self.contingents, self.contingent_weights = weighted(CONTINGENT_WEIGHTS)
        self.payments, self.payment_weights = weighted(PAYMENT_WEIGHTS)
        self.not_let = [status for status, _weight in NOT_LET_STATUSES]
        self.not_let_weights = [weight for _status, weight in NOT_LET_STATUSES]
        self.lease_span = (LAST_LEASE_START - FIRST_LEASE_DAY).days - 30

    @staticmethod
    def _existing_email_counts() -> Counter[str]:
        """Highest numeric suffix per e-mail local part already used, so a growth run adds no duplicates."""
        counts: Counter[str] = Counter()
        for email in Person.objects.filter(email__endswith="@example.fr").values_list("email", flat=True).iterator():
            local = email.rsplit("@", 1)[0]
            base = local.rstrip("0123456789")
            counts[base] = max(counts[base], int(local[len(base) :] or 1))
        return counts

    # -- stock --

    def estate(self, spec: EstateSpec) -> None:
        rng = self.rng
        commune = self.communes[spec.insee]
        zone_i = commune.apl_zone == AplZone.I
        ceilings = {
            f: base + (APL_ZONE_I_BONUS if zone_i else 0) + rng.randint(-30, 30) for f, base in MAX_RENT_PER_M2.items()
        }
        heating = rng.randint(85, 130)  # cents per m² per month
        upkeep = rng.randint(22, 40)
        teom = rng.randint(14, 22)
        lift = rng.randint(700, 1500)
        ct = self.charge_types
        current_leases: list[int] = []  # lease indexes, for annexes
        for building, per_floor, count in spec.buildings:
            postal = f"{building.address} – Bât. {building.name}"
            for i in range(count):
                dwelling_id = len(self.dwellings)
                floor, position = divmod(i, per_floor)
                typology = rng.choices(self.typologies, self.typology_weights)[0]
                low, high = LIVING_AREA[typology]
                area = rng.randint(low * 100, high * 100)  # cents of m²
                financing = rng.choices(self.financings, self.financing_weights)[0]
                per_m2 = ceilings[financing]
                max_rent = (per_m2 * area + 50) // 100
                rent = max_rent * rng.randint(900, 985) // 1000
                accessibility = Accessibility.STANDARD
                if floor == 0 or building.has_elevator:
                    roll = rng.random()
                    if roll < 0.03:
                        accessibility = Accessibility.ADAPTED
                    elif roll < 0.12:
                        accessibility = Accessibility.ACCESSIBLE
                door = chr(65 + position) if position < 26 else str(position + 1)
                charges = [
                    (ct["eau_froide"], COLD_WATER_BASE[typology] + rng.randint(0, 600)),
                    (ct["chauffage"], area * heating // 100),
                    (ct["entretien"], area * upkeep // 100),
                    (ct["teom"], area * teom // 100),
                ]
                if building.has_elevator:
                    charges.append((ct["ascenseur"], lift))
                for type_id, cents in charges:
                    self.dwelling_charges.append((dwelling_id, type_id, money(cents)))

                let = rng.random() < LET_RATE
                status = DwellingStatus.LET if let else rng.choices(self.not_let, self.not_let_weights)[0]
                self.dwellings.append(
                    (
                        dwelling_id,
                        building.pk,
                        f"{spec.agency_code}-{spec.code}-{building.name}-{i + 1:04d}".upper(),
                        typology,
                        floor,
                        door,
                        money(area),
                        financing,
                        money(per_m2),
                        money(rent),
                        status,
                        accessibility,
                        rng.choices(self.contingents, self.contingent_weights)[0],
                    )
                )
                address = f"{postal}, {_floor_label(floor)} porte {door}"
                place = (address, commune.postcode, commune.name)
                agency_id = building.estate.agency_id
                current_start = None
                if let:
                    current_start = self._lease_start()
                    lease = self._lease(
                        dwelling_id, agency_id, typology, current_start, None, rent, charges, place, current=True
                    )
                    current_leases.append(lease)
                past_rate = PAST_LEASE_RATE_LET if let else PAST_LEASE_RATE_NOT_LET
                if rng.random() < past_rate:
                    self._past_lease(dwelling_id, agency_id, typology, current_start, rent, charges)
        self._annexes(spec, zone_i, current_leases)

    def _annexes(self, spec: EstateSpec, zone_i: bool, current_leases: list[int]) -> None:
        rng = self.rng
        for kind, (letter, (share_low, share_high), (rent_low, rent_high)) in ANNEX_KINDS.items():
            count = round(spec.size * rng.uniform(share_low, share_high))
            if kind == AnnexKind.CELLAR and spec.built_year >= 2000:
                count //= 3  # few cellars in recent buildings
            if not count:
                continue
            let_count = min(count, len(current_leases), round(count * rng.uniform(0.55, 0.85)))
            tenants = rng.sample(current_leases, let_count)
            for n in range(count):
                annex_id = len(self.annexes)
                cents = rng.randint(rent_low, rent_high)
                if zone_i:
                    cents = cents * ANNEX_RENT_ZONE_I_PERCENT // 100
                rent = money(cents // 50 * 50)  # to 50 cents
                self.annexes.append(
                    (annex_id, spec.pk, f"{spec.agency_code}-{spec.code}-{letter}{n + 1:03d}".upper(), kind, rent)
                )
                if n < let_count:
                    self.lease_annexes.append((tenants[n], annex_id, rent))

    # -- leases --

    def _lease_start(self) -> date:
        """Start of a current lease: recent ones more frequent (mean tenure ~9 years)."""
        rng = self.rng
        days = int(rng.expovariate(1 / (9 * 365.25)))
        if days > self.lease_span:
            days = rng.randint(0, self.lease_span)
        start = LAST_LEASE_START - timedelta(days=days)
        if rng.random() < 0.6:
            start = start.replace(day=1)
        return max(start, FIRST_LEASE_DAY + timedelta(days=25))

    def _lease(self, dwelling_id, agency_id, typology, start, end, rent, charges, place, current):
        """One lease with its household, charges and transitions. Returns the lease index."""
        rng = self.rng
        signed = start - timedelta(days=rng.randint(0, 21))
        household_id = len(self.households)
        self.households.append((household_id, agency_id, at(signed, rng.randint(9, 16), rng.randint(0, 59))))
        self._people(household_id, typology, start, place)
        lease_id = len(self.leases)
        opened = at(start, 9, rng.randint(0, 59))
        self.transitions.append((lease_id, "", LeaseStatus.ACTIVE, opened, "Reprise de l'historique"))
        if current:
            status = LeaseStatus.ACTIVE
            if rng.random() < NOTICE_RATE:
                status = LeaseStatus.NOTICE_GIVEN
                end = REFERENCE_DATE + timedelta(days=rng.randint(30, 90))
                notified = max(start, REFERENCE_DATE - timedelta(days=rng.randint(1, 25)))
                self.transitions.append(
                    (lease_id, LeaseStatus.ACTIVE, status, at(notified, 14), "Congé donné par le locataire")
                )
        else:
            status = LeaseStatus.ENDED
            self.transitions.append((lease_id, LeaseStatus.ACTIVE, status, at(end, 11), "État des lieux de sortie"))
        amount = money(rent)
        self.leases.append(
            [
                lease_id,
                None,  # number, assigned in date order once every lease is known
                dwelling_id,
                household_id,
                status,
                signed,
                start,
                end,
                amount,
                amount,
                rng.choices(self.payments, self.payment_weights)[0],
                default_commandement_delay(signed),
                at(signed, 10),
            ]
        )
        for type_id, cents in charges:
            self.lease_charges.append((lease_id, type_id, money(cents)))
        return lease_id

    def _past_lease(self, dwelling_id, agency_id, typology, current_start, rent, charges) -> None:
        rng = self.rng
        earliest = FIRST_LEASE_DAY + timedelta(days=25)
        if current_start is None:
            end = REFERENCE_DATE - timedelta(days=rng.randint(10, 300))
        else:
            end = current_start - timedelta(days=rng.randint(1, 90))
        if (end - earliest).days < 400:
            return
        start = end - timedelta(days=rng.randint(365, 18 * 365))
        if start < earliest:
            start = earliest + timedelta(days=rng.randint(0, (end - earliest).days - 365))
        # Rent and charges of the time: about 1.5 % a year below today's (per mille, integers).
        per_mille = max(550, 1000 - 15 * (REFERENCE_DATE - start).days // 365)
        old_charges = [(type_id, cents * per_mille // 1000) for type_id, cents in charges]
        town, postcode = rng.choice(OTHER_TOWNS)
        place = (f"{rng.randint(1, 120)} {rng.choice(EXTRA_STREETS)}", postcode, town)
        self._lease(
            dwelling_id, agency_id, typology, start, end, rent * per_mille // 1000, old_charges, place, current=False
        )

    def assign_lease_numbers(self) -> None:
        """Lease numbers from the database sequence, in signature order (one call for the batch)."""
        numbers = next_lease_numbers(len(self.leases)) if self.leases else []
        for row, number in zip(sorted(self.leases, key=lambda r: (r[5], r[0])), numbers, strict=True):
            row[1] = number

    # -- households --

    def _people(self, household_id: int, typology: str, start: date, place: tuple[str, str, str]) -> None:
        rng = self.rng
        sizes, weights = zip(*HOUSEHOLD_SIZES[typology], strict=True)
        size = rng.choices(sizes, weights)[0]
        couple = size >= 2 and rng.random() < (0.6 if size == 2 else 0.7)
        children = size - 1 - (1 if couple else 0)
        ascendant = children >= 2 and rng.random() < 0.05
        if ascendant:
            children -= 1
        years = (REFERENCE_DATE - start).days / 365.25
        if children:
            age_at_start = rng.randint(20, max(21, min(50, int(60 - years))))
        else:
            age_at_start = rng.randint(20, max(21, min(65, int(92 - years))))
        holder_birth = years_before(start, age_at_start, rng.randint(0, 364))
        male_share = 0.55 if couple else 0.4  # single parents and lone tenants: mostly women
        holder_sex = "M" if rng.random() < male_share else "F"
        family = rng.choice(SURNAMES)
        self._person(household_id, PersonRole.TITULAIRE, holder_sex, family, holder_birth, place, adult=True)
        if couple:
            partner_sex = holder_sex if rng.random() < 0.02 else ("F" if holder_sex == "M" else "M")
            partner_name = family if rng.random() < 0.6 else rng.choice(SURNAMES)
            partner_birth = holder_birth + timedelta(days=rng.randint(-6 * 365, 6 * 365))
            partner_birth = min(partner_birth, years_before(start, 19))  # of age when signing
            role = PersonRole.COTITULAIRE if rng.random() < 0.7 else PersonRole.CONJOINT
            self._person(household_id, role, partner_sex, partner_name, partner_birth, place, adult=True)
        if children:
            earliest = max(holder_birth + timedelta(days=18 * 365), REFERENCE_DATE - timedelta(days=24 * 365))
            latest = min(holder_birth + timedelta(days=45 * 365), REFERENCE_DATE - timedelta(days=30))
            span = max(0, (latest - earliest).days)
            for _ in range(children):
                birth = earliest + timedelta(days=rng.randint(0, span))
                sex = "F" if rng.random() < 0.49 else "M"
                self._person(household_id, PersonRole.ENFANT, sex, family, birth, place, adult=False)
        if ascendant:
            birth = years_before(holder_birth, rng.randint(20, 32), rng.randint(0, 364))
            if (REFERENCE_DATE - birth).days < 97 * 365:
                sex = "F" if rng.random() < 0.7 else "M"
                self._person(household_id, PersonRole.ASCENDANT, sex, rng.choice(SURNAMES), birth, place, adult=True)

    def _slug(self, text: str) -> str:
        slug = self.slug_cache.get(text)
        if slug is None:
            slug = self.slug_cache[text] = ascii_slug(text)
        return slug

    def _person(self, household_id, role, sex, last_name, birth, place, adult) -> None:
        rng = self.rng
        generation = 0 if birth.year < 1962 else 1 if birth.year <= 1987 else 2
        if rng.random() < 0.15:
            generation = min(2, max(0, generation + rng.choice((-1, 1))))
        first_name = rng.choice(FIRST_NAMES[sex, generation])
        age = (REFERENCE_DATE - birth).days // 365
        major = age >= 18
        civility = (Civility.MONSIEUR if sex == "M" else Civility.MADAME) if major else Civility.NONE
        phone = email = ""
        if adult or (age >= 15 and rng.random() < 0.5):
            phone = "06 " + " ".join(f"{rng.randint(0, 99):02d}" for _ in range(4))
        if adult and rng.random() < 0.92:
            local = f"{self._slug(first_name)}.{self._slug(last_name)}"
            self.email_counts[local] += 1
            seen = self.email_counts[local]
            email = f"{local}{seen if seen > 1 else ''}@example.fr"
        address, postcode, city = place
        self.people.append(
            (
                household_id,
                civility,
                last_name,
                first_name,
                birth,
                role,
                phone,
                email,
                address,
                postcode,
                city,
                Person.build_search_name(last_name, first_name),
            )
        )

    # -- loading --

    def load(self) -> dict[str, int]:
        """Reserve the primary keys, then COPY every generated row, parents before children."""
        dwelling = reserve_ids(Dwelling, len(self.dwellings))
        annex = reserve_ids(Annex, len(self.annexes))
        household = reserve_ids(Household, len(self.households))
        lease = reserve_ids(Lease, len(self.leases))
        counts = {}
        counts["logements"] = copy_rows(
            Dwelling,
            [
                "id", "building", "reference", "typology", "floor", "door", "living_area", "financing",
                "max_rent_per_m2", "rent", "status", "accessibility", "contingent",
            ],
            ((dwelling[r[0]], *r[1:]) for r in self.dwellings),
        )  # fmt: skip
        counts["provisions de charges (logements)"] = copy_rows(
            DwellingCharge,
            ["dwelling", "charge_type", "monthly_amount"],
            ((dwelling[d], t, amount) for d, t, amount in self.dwelling_charges),
        )
        counts["annexes"] = copy_rows(
            Annex, ["id", "estate", "reference", "kind", "rent"], ((annex[r[0]], *r[1:]) for r in self.annexes)
        )
        counts["ménages"] = copy_rows(
            Household, ["id", "agency", "created_at"], ((household[h], a, c) for h, a, c in self.households)
        )
        counts["personnes"] = copy_rows(
            Person,
            [
                "household", "civility", "last_name", "first_name", "birth_date", "role", "phone", "email",
                "address", "postcode", "city", "search_name",
            ],
            ((household[r[0]], *r[1:]) for r in self.people),
        )  # fmt: skip
        counts["baux"] = copy_rows(
            Lease,
            [
                "id", "number", "dwelling", "household", "status", "signed_on", "starts_on", "ends_on", "rent",
                "deposit", "payment_method", "commandement_delay", "created_at",
            ],
            ((lease[r[0]], r[1], dwelling[r[2]], household[r[3]], *r[4:]) for r in self.leases),
        )  # fmt: skip
        counts["provisions de charges (baux)"] = copy_rows(
            LeaseCharge,
            ["lease", "charge_type", "monthly_amount"],
            ((lease[x], t, amount) for x, t, amount in self.lease_charges),
        )
        counts["annexes louées"] = copy_rows(
            LeaseAnnex, ["lease", "annex", "rent"], ((lease[x], annex[a], rent) for x, a, rent in self.lease_annexes)
        )
        counts["changements de statut"] = copy_rows(
            LeaseTransition,
            ["lease", "from_status", "to_status", "at", "reason"],
            ((lease[r[0]], *r[1:]) for r in self.transitions),
        )
        return counts


def build_stock(rng: random.Random, plans: list[EstateSpec], agencies, communes) -> dict[str, int]:
    """Create the planned estates and everything under them. Returns the rows created per table."""
    charge_types = dict(ChargeType.objects.values_list("code", "id"))
    missing = {"eau_froide", "chauffage", "entretien", "teom", "ascenseur"} - set(charge_types)
    if missing:
        raise LookupError(", ".join(sorted(missing)))
    estates = Estate.objects.bulk_create(
        [
            Estate(
                agency=agencies[spec.agency_code],
                code=spec.code,
                name=spec.name,
                commune=communes[spec.insee],
                qpv=spec.qpv,
                built_year=spec.built_year,
            )
            for spec in plans
        ],
        batch_size=5000,
    )
    buildings = []
    for spec, estate in zip(plans, estates, strict=True):
        spec.pk = estate.pk
        spec.buildings = plan_buildings(rng, spec)
        for building, _per_floor, _count in spec.buildings:
            building.estate = estate
            buildings.append(building)
    Building.objects.bulk_create(buildings, batch_size=5000)

    generator = Generator(rng, charge_types, communes)
    for spec in plans:
        generator.estate(spec)
    generator.assign_lease_numbers()
    counts = {"résidences": len(estates), "bâtiments": len(buildings)}
    counts.update(generator.load())
    return counts


def analyze() -> None:
    tables = [
        m._meta.db_table
        for m in (
            Estate, Building, Dwelling, DwellingCharge, Annex, Household, Person, Lease, LeaseCharge, LeaseAnnex,
            LeaseTransition,
        )
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(tables))  # lint: allow raw-sql-format - our own table names
