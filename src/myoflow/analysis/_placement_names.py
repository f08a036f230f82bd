"""The placement vocabulary: canonical muscle and segment names and their synonyms (data only).

Canonical muscle stems are the short names myoflow has always used (``glute_max``,
``biceps_femoris``); a synonym is any other spelling a researcher or a lab template uses for
the same muscle: the Latin name (``gluteus_maximus``, as in the SENIAM recommendations), the
usual abbreviations (``gmax``, ``bf``, ``st``, ``rf``, ``vl``, ``vm``, ``tfl``) and a few
English forms. Keys here are lower case with words joined by ``_``; the parser also tries
them with the underscores removed (``gluteusmaximus``, ``glutemax``).

Abbreviations that are ambiguous between muscles (``gm``: gluteus maximus or medius, or
gastrocnemius medialis; ``ra``: rectus abdominis or femoris; ``biceps``: biceps brachii or
biceps femoris; ``ad``: adductor or anterior deltoid; ``sa``: sartorius or serratus
anterior; ``pm``: psoas or pectoralis major) are deliberately not synonyms: such a name is
reported as unknown, with the candidates.
"""

from __future__ import annotations

#: Role -> canonical muscle stems.
ROLES: dict[str, tuple[str, ...]] = {
    "glute": ("glute_max",),
    "hamstring": ("biceps_femoris", "semitendinosus", "semimembranosus", "hamstring"),
    "abductor": ("glute_med", "glute_min", "tfl"),
    "adductor": ("adductor", "adductor_longus", "adductor_magnus", "gracilis"),
    "hip_flexor": ("rectus_femoris", "iliopsoas", "psoas", "iliacus", "sartorius"),
    "knee_ext": ("vastus_lateralis", "vastus_medialis", "vastus_intermedius", "quadriceps"),
    "trunk": ("erector_spinae", "multifidus", "rectus_abdominis", "obliques"),
    "lower_leg": (
        "tibialis_anterior",
        "gastrocnemius_medialis",
        "gastrocnemius_lateralis",
        "soleus",
        "peroneus",
    ),
    # the arm, where a Myo armband is worn (and upper-body exercises)
    "elbow_flexor": ("biceps_brachii", "brachialis", "brachioradialis"),
    "elbow_ext": ("triceps_brachii", "anconeus"),
    "wrist_flexor": ("flexor_carpi_radialis", "flexor_carpi_ulnaris", "flexor_digitorum_superficialis"),
    "wrist_ext": ("extensor_carpi_radialis", "extensor_carpi_ulnaris", "extensor_digitorum"),
    "shoulder": (
        "deltoid_anterior",
        "deltoid_middle",
        "deltoid_posterior",
        "deltoid",
        "trapezius_upper",
        "trapezius_middle",
        "trapezius_lower",
        "pectoralis_major",
        "latissimus_dorsi",
        "serratus_anterior",
        "infraspinatus",
        "supraspinatus",
    ),
}

#: Canonical muscle stem -> synonyms (besides the stem itself).
MUSCLE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "glute_max": (
        "gluteus_maximus",
        "gluteal_maximus",
        "glut_max",
        "gmax",
        "g_max",
        "glute_maximus",
        "gluteus_max",
    ),
    "glute_med": ("gluteus_medius", "glut_med", "gmed", "g_med", "glute_medius", "gluteus_med"),
    "glute_min": ("gluteus_minimus", "glut_min", "gmin", "g_min", "glute_minimus"),
    "tfl": ("tensor_fasciae_latae", "tensor_fascia_latae", "tensor_fasciae_lata", "tensor_fascia_lata"),
    "biceps_femoris": ("bf", "bflh", "biceps_femoris_long_head", "biceps_fem", "lateral_hamstring"),
    "semitendinosus": ("st", "semitend", "semitendinosis", "medial_hamstring"),
    "semimembranosus": ("sm", "semimem"),
    "hamstring": ("hamstrings", "hams"),
    "adductor": ("adductors", "add"),
    "adductor_longus": ("add_longus", "adl"),
    "adductor_magnus": ("add_magnus", "adm"),
    "gracilis": ("gr",),
    "rectus_femoris": ("rf", "rec_fem"),
    "iliopsoas": ("ilio_psoas",),
    "psoas": ("psoas_major",),
    "vastus_lateralis": ("vl", "vas_lat"),
    "vastus_medialis": ("vm", "vmo", "vastus_medialis_obliquus", "vas_med"),
    "vastus_intermedius": ("vi",),
    "quadriceps": ("quads", "quadriceps_femoris"),
    "erector_spinae": ("es", "erectors", "lumbar_erector_spinae", "longissimus", "iliocostalis"),
    "multifidus": ("mf", "lumbar_multifidus"),
    "rectus_abdominis": ("rectus_abdominus", "abs"),
    "obliques": ("external_oblique", "internal_oblique", "obliquus_externus", "oblique"),
    "tibialis_anterior": ("ta", "tib_ant"),
    "gastrocnemius_medialis": ("gastrocnemius_medial_head", "medial_gastrocnemius", "gastroc_med", "mg"),
    "gastrocnemius_lateralis": ("gastrocnemius_lateral_head", "lateral_gastrocnemius", "gastroc_lat", "lg"),
    "soleus": ("sol",),
    "peroneus": ("peroneus_longus", "fibularis_longus", "pl"),
    "biceps_brachii": ("biceps_brachii_long_head", "biceps_brachii_short_head", "bic_brach", "bb"),
    "brachialis": (),
    "brachioradialis": ("br", "brachio_radialis"),
    "triceps_brachii": (
        "triceps",
        "tb",
        "triceps_brachii_long_head",
        "triceps_brachii_lateral_head",
        "triceps_lateral",
        "triceps_long",
    ),
    "anconeus": (),
    "flexor_carpi_radialis": ("fcr",),
    "flexor_carpi_ulnaris": ("fcu",),
    "flexor_digitorum_superficialis": ("fds", "flexor_digitorum"),
    "extensor_carpi_radialis": ("ecr", "extensor_carpi_radialis_longus", "ecrl"),
    "extensor_carpi_ulnaris": ("ecu",),
    "extensor_digitorum": ("ed", "edc", "extensor_digitorum_communis"),
    "deltoid_anterior": ("anterior_deltoid", "front_deltoid", "delt_ant", "deltoideus_anterior"),
    "deltoid_middle": ("middle_deltoid", "lateral_deltoid", "delt_mid", "deltoideus_medius"),
    "deltoid_posterior": ("posterior_deltoid", "rear_deltoid", "delt_post", "deltoideus_posterior"),
    "deltoid": ("deltoideus", "delt"),
    "trapezius_upper": ("upper_trapezius", "ut", "trapezius_descendens", "upper_trap"),
    "trapezius_middle": ("middle_trapezius", "trapezius_transversalis", "middle_trap"),
    "trapezius_lower": ("lower_trapezius", "trapezius_ascendens", "lower_trap"),
    "pectoralis_major": ("pec_major", "pectoralis", "pec"),
    "latissimus_dorsi": ("lats", "lat", "ld", "latissimus"),
    "serratus_anterior": ("serratus",),
    "infraspinatus": ("isp",),
    "supraspinatus": ("ssp",),
}

#: Body segments and joints an IMU or angle stream may be placed on -> synonyms. ``pelvis``
#: and ``thigh`` make the hip angle (``docs/conventions.md``).
SEGMENT_SYNONYMS: dict[str, tuple[str, ...]] = {
    "pelvis": ("sacrum", "lumbar", "lower_back", "low_back", "l5", "s1"),
    "thigh": ("femur", "upper_leg", "thigh_front", "thigh_lateral"),
    "shank": ("shin", "lower_leg", "tibia", "calf"),
    "foot": ("feet",),
    "trunk": ("chest", "sternum", "thorax", "upper_back", "torso", "back"),
    "head": (),
    "arm": ("upper_arm",),
    "forearm": ("wrist",),
    "hip": ("hip_joint",),
    "knee": ("knee_joint",),
    "ankle": ("ankle_joint",),
}

#: Side tokens (first or last word of a placement) -> ``"l"`` / ``"r"``.
SIDES = {"l": "l", "left": "l", "lt": "l", "li": "l", "r": "r", "right": "r", "rt": "r", "re": "r"}
