"""Word lists for synthetic data. Common Dutch names and places; any resemblance is generic."""

from __future__ import annotations

# (town, first postcode digits, grid area index)
TOWNS: tuple[tuple[str, int, int], ...] = (
    ("Zwolle", 8011, 0),
    ("Kampen", 8261, 0),
    ("Deventer", 7411, 0),
    ("Apeldoorn", 7311, 1),
    ("Zutphen", 7201, 1),
    ("Arnhem", 6811, 1),
    ("Eindhoven", 5611, 2),
    ("Helmond", 5701, 2),
    ("Tilburg", 5011, 2),
    ("Oss", 5341, 2),
)

GRID_AREAS: tuple[str, ...] = ("IJssel-Vecht", "Veluwe-Achterhoek", "Brabant-Oost")

STREETS: tuple[str, ...] = (
    "Kerkstraat", "Schoolstraat", "Molenweg", "Dorpsstraat", "Stationsweg", "Beukenlaan",
    "Eikenlaan", "Lindelaan", "Kastanjelaan", "Wilhelminastraat", "Julianastraat",
    "Beatrixlaan", "Oranjestraat", "Nieuwstraat", "Marktstraat", "Parallelweg", "Sportlaan",
    "Tulpstraat", "Rozenstraat", "Irisstraat", "Merelstraat", "Lijsterstraat", "Vinkenlaan",
    "Zwanenbloem", "Klaverweide", "Boterbloem", "Meidoornstraat", "Vlierstraat", "Hazelaar",
    "Populierenlaan", "Esdoornlaan", "Wilgenstraat", "Berkenstraat", "Dennenweg", "Heideweg",
    "Veldweg", "Akkerstraat", "Weidelaan", "Kanaalweg", "Havenstraat", "Dijkstraat",
    "Sluisweg", "Brugstraat", "Poortstraat", "Torenstraat", "Prins Hendrikstraat",
    "Rembrandtlaan", "Vermeerstraat", "Frans Halsstraat", "Van Goghstraat", "Mozartlaan",
    "Beethovenstraat", "Schubertlaan", "Händelstraat", "Bachstraat", "Vondelstraat",
    "Bilderdijkstraat", "Da Costastraat", "Potgieterstraat", "Multatulistraat",
)  # fmt: skip

BUSINESS_STREETS: tuple[str, ...] = (
    "Industrieweg", "Ambachtsweg", "Handelsweg", "Nijverheidsweg", "Edisonstraat",
    "Marconistraat", "Celsiusweg", "Newtonstraat",
)  # fmt: skip

FIRST_NAMES: tuple[str, ...] = (
    "Jan", "Piet", "Kees", "Henk", "Anna", "Maria", "Sanne", "Lotte", "Daan", "Sem", "Lucas",
    "Emma", "Julia", "Mila", "Tess", "Noah", "Liam", "Finn", "Sophie", "Eva", "Fleur", "Bram",
    "Thijs", "Ruben", "Femke", "Lieke", "Joost", "Wouter", "Ingrid", "Marieke", "Gerrit",
    "Willem", "Johanna", "Cornelia", "Hendrik", "Petra", "Karin", "Mohamed", "Fatima", "Yusuf",
)  # fmt: skip

SURNAMES: tuple[str, ...] = (
    "de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen",
    "Visser", "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters",
    "Hendriks", "van Leeuwen", "Dekker", "Brouwer", "de Wit", "Dijkstra", "Smits",
    "de Graaf", "van der Meer", "van der Linden", "Kok", "Jacobs", "de Haan", "Vermeulen",
    "van den Heuvel", "van der Veen", "van den Broek", "de Bruijn", "de Bruin", "van der Heijden",
    "Schouten", "van Beek", "Willems", "van Vliet", "Yilmaz", "El Amrani",
)  # fmt: skip

BUSINESS_KINDS: tuple[str, ...] = (
    "Bakkerij", "Garage", "Installatiebedrijf", "Drukkerij", "Metaalbewerking", "Kwekerij",
    "Transport", "Zuivel", "Houthandel", "Schildersbedrijf",
)  # fmt: skip

# Fictional suppliers and apps; their EAN-13 codes are derived in the generator.
SUPPLIERS: tuple[str, ...] = (
    "Polderstroom Energie", "Zuiderzon Levering", "Windkracht Noord", "Groene Vonk",
    "Delta Dijk Energie", "Hollandse Kilowatt",
)  # fmt: skip
SUPPLIER_SHARES: tuple[float, ...] = (0.30, 0.22, 0.16, 0.14, 0.10, 0.08)

THIRD_PARTIES: tuple[str, ...] = ("WattWijzer", "Stroomkompas", "Zonnig Inzicht")

METER_MAKERS: tuple[str, ...] = ("KFM", "ISK", "LGF", "SAG")
