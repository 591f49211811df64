"""The room-by-room checklist an EDL starts from, per typology (T1 … T6).

Each room lists its elements: (category, label, vétusté element type). The element types are the
codes of the vétusté grid (inspections/data/vetuste_example_grid.csv); blank when the grid has no
line for the element (no abatement then: the tenant's share is the whole repair cost).
"""

from __future__ import annotations

from .models import ElementCategory as C

DRY_ROOM = [
    (C.FLOOR, "Sol", "plastic_floor_covering"),
    (C.WALLS, "Murs (peinture)", "paint_wallpaper"),
    (C.CEILING, "Plafond", "paint_wallpaper"),
    (C.JOINERY, "Porte et fenêtres", "interior_joinery"),
    (C.EQUIPMENT, "Prises, interrupteurs, radiateur", ""),
]
KITCHEN = [
    (C.FLOOR, "Sol (carrelage)", "tiles_parquet"),
    (C.WALLS, "Murs et faïence", "paint_wallpaper"),
    (C.CEILING, "Plafond", "paint_wallpaper"),
    (C.JOINERY, "Porte et fenêtre", "interior_joinery"),
    (C.EQUIPMENT, "Évier et robinetterie", "taps"),
    (C.EQUIPMENT, "Placards et plan de travail", "interior_joinery"),
]
BATHROOM = [
    (C.FLOOR, "Sol (carrelage)", "tiles_parquet"),
    (C.WALLS, "Murs et faïence", "paint_wallpaper"),
    (C.CEILING, "Plafond", "paint_wallpaper"),
    (C.JOINERY, "Porte", "interior_joinery"),
    (C.EQUIPMENT, "Baignoire / douche, lavabo, robinetterie", "taps"),
    (C.EQUIPMENT, "Chauffe-eau", "water_heater"),
]
WC = [
    (C.FLOOR, "Sol", "tiles_parquet"),
    (C.WALLS, "Murs", "paint_wallpaper"),
    (C.CEILING, "Plafond", "paint_wallpaper"),
    (C.JOINERY, "Porte", "interior_joinery"),
    (C.EQUIPMENT, "Cuvette, chasse d'eau", "taps"),
]
ENTRANCE = [
    (C.FLOOR, "Sol", "plastic_floor_covering"),
    (C.WALLS, "Murs", "paint_wallpaper"),
    (C.CEILING, "Plafond", "paint_wallpaper"),
    (C.JOINERY, "Porte palière, serrure", "locks_hardware"),
    (C.EQUIPMENT, "Interphone, tableau électrique", ""),
]

BEDROOMS = {"T1": 0, "T2": 1, "T3": 2, "T4": 3, "T5": 4, "T6": 5}


def rooms_for(typology: str) -> list[tuple[str, list]]:
    """[(room name, [(category, label, element type), ...]), ...] for a typology."""
    rooms = [("Entrée", ENTRANCE), ("Séjour", DRY_ROOM), ("Cuisine", KITCHEN)]
    count = BEDROOMS.get(typology, 1)
    rooms += [(f"Chambre {n}" if count > 1 else "Chambre", DRY_ROOM) for n in range(1, count + 1)]
    rooms += [("Salle de bains", BATHROOM), ("WC", WC)]
    return rooms
