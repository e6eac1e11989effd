"""Names, streets and notes for generated demo patients: several locales, with accents.
Plain lists (Faker is a development package and far too slow for 100,000 patients)."""

# locale -> (female first names, male first names, last names, city and phone prefix)
LOCALES = {
    "fr_CA": (
        [
            "Émilie",
            "Geneviève",
            "Chloé",
            "Mélanie",
            "Josée",
            "Hélène",
            "Noémie",
            "Andrée",
            "Maude",
            "Élisabeth",
            "Ève",
            "Léa",
            "Rosalie",
            "Marie-Ève",
            "Stéphanie",
            "Aurélie",
        ],
        [
            "Jérôme",
            "François",
            "Benoît",
            "Stéphane",
            "Léo",
            "Mathéo",
            "Réjean",
            "Gaëtan",
            "Olivier",
            "Étienne",
            "Sébastien",
            "Rémi",
        ],
        [
            "Tremblay",
            "Gagnon",
            "Bélanger",
            "Côté",
            "Lévesque",
            "Bérubé",
            "Gélinas",
            "Pelletier",
            "Ouellet",
            "Thériault",
            "Boucher",
            "Désilets",
            "Lefèbvre",
            "Hébert",
            "Fréchette",
            "Gauthier",
            "Bouchard",
            "Roy",
            "Caron",
            "Nadeau",
        ],
        ("Montréal QC", "514-555-"),
    ),
    "en_CA": (
        [
            "Emily",
            "Sarah",
            "Jessica",
            "Megan",
            "Olivia",
            "Hannah",
            "Chloe",
            "Rebecca",
            "Laura",
            "Amanda",
            "Grace",
            "Abigail",
        ],
        ["James", "Liam", "Noah", "Ethan", "Ryan", "Matthew", "Daniel", "Connor"],
        [
            "Smith",
            "Brown",
            "Wilson",
            "MacDonald",
            "Campbell",
            "Taylor",
            "Anderson",
            "Murray",
            "O'Brien",
            "Stewart",
            "Fraser",
            "McKenzie",
            "Robertson",
            "Thompson",
        ],
        ("Ottawa ON", "613-555-"),
    ),
    "es": (
        [
            "María",
            "Lucía",
            "Sofía",
            "Inés",
            "Martina",
            "Ana Belén",
            "Julia",
            "Ángela",
            "Rocío",
            "Nuria",
        ],
        ["José", "Álvaro", "Andrés", "Rubén", "Jesús", "Iñaki"],
        [
            "García",
            "Martínez",
            "López",
            "Sánchez",
            "Pérez",
            "Gómez",
            "Fernández",
            "Jiménez",
            "Muñoz",
            "Álvarez",
            "Ibáñez",
            "Núñez",
            "Peña",
        ],
        ("Montréal QC", "438-555-"),
    ),
    "pt": (
        ["Joana", "Inês", "Beatriz", "Leonor", "Conceição", "Márcia", "Fátima", "Luísa"],
        ["João", "Tomás", "Gonçalo", "Sebastião", "Vítor"],
        [
            "Gonçalves",
            "Conceição",
            "Araújo",
            "Simões",
            "Magalhães",
            "Estêvão",
            "Rodrigues",
            "Sousa",
            "Brandão",
            "Guimarães",
        ],
        ("Laval QC", "450-555-"),
    ),
    "de": (
        ["Jürgen", "Lena", "Anja", "Käthe", "Sönke", "Ute", "Jülide", "Mareike"],
        ["Björn", "Jörg", "Lukas", "Günther"],
        [
            "Müller",
            "Schäfer",
            "Köhler",
            "Weiß",
            "Groß",
            "Bäcker",
            "Schröder",
            "Krämer",
            "Fuchs",
            "Hoffmann",
        ],
        ("Ottawa ON", "343-555-"),
    ),
    "vi": (
        ["Nguyễn Thị Lan", "Thảo", "Hương", "Ngọc", "Linh", "Trâm"],
        ["Minh", "Đức", "Quang"],
        ["Nguyễn", "Trần", "Lê", "Phạm", "Đặng", "Võ", "Huỳnh"],
        ("Montréal QC", "514-555-"),
    ),
}

STREETS = {
    "Montréal QC": [
        "rue Saint-Denis",
        "boulevard Saint-Laurent",
        "avenue du Mont-Royal",
        "rue Sainte-Catherine Est",
        "rue Émile-Journault",
        "avenue Laurier Ouest",
    ],
    "Ottawa ON": ["Bank Street", "Elgin Street", "Rideau Street", "Bronson Avenue"],
    "Laval QC": ["boulevard de l'Avenir", "rue de Sévigny", "boulevard Lévesque Est"],
}

ALLERGIES = [
    "Penicillin (rash)",
    "Latex",
    "Iodine-based antiseptics",
    "Lidocaine (hives)",
    "Nickel",
    "Ibuprofen (bronchospasm)",
    "Sulfonamides",
    "Chlorhexidine (contact dermatitis)",
]

MEDICATIONS = [
    "Levothyroxine 50 µg daily",
    "Oral contraceptive",
    "Vitamin D 1000 IU daily",
    "Ramipril 5 mg daily",
    "Metformin 500 mg twice daily",
    "Escitalopram 10 mg daily",
]

HISTORY = [
    "Hypothyroidism, treated.",
    "Two pregnancies, uncomplicated.",
    "Appendectomy in childhood.",
    "Mild hypertension.",
    "Knee arthroscopy (right), five years ago.",
    "Seasonal allergic rhinitis.",
]

REACTIONS = [
    "Mild erythema at the injection sites, settled before leaving.",
    "Small papules as expected; burning sensation for about fifteen minutes.",
    "Two pinpoint bleeds, pressure applied.",
    "Slight itching, resolved on its own.",
]

AFTERCARE = (
    "No hot bath, sauna or sport for 24 hours; no make-up or cream on the treated area "
    "until tomorrow; drink plenty of water; call the clinic about unusual redness or fever."
)

SIDE_EFFECT_NOTES = {
    "burning": "Burning at the sites after the session, as expected.",
    "swelling": "Minor swelling of the treated area.",
    "soreness": "Sore to the touch, like after exercise.",
    "discoloration": "Small bruises at a few injection points.",
    "infection": "Warm, red, tender papule at one site; seen at the clinic.",
    "other": "Patient reports a headache the evening of the session.",
}

NEEDLE_OVERRIDE = "Thicker subcutaneous layer at this site: longer needle chosen after palpation."
