"""The published flow and baseline of both seed trials, as targets for the synthetic demo subjects.

Every count here is a published figure (../shared/protocols.md, from the two papers); the demo reproduces
them exactly. Timing splits (how many deaths before the landmark) are ours, chosen so that the hazard ratios
fall on the published side of 1; the papers give only the hazard ratios. So are the sizes of the lab changes
(``meld_change``): the papers give their direction, not their size.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Spread:
    """A baseline variable: mean +- SD (``sd``) or median (low-high) (``low``/``high``), in CRF units."""

    centre: float
    sd: float | None = None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Events:
    """``count`` events between ``start`` and ``end`` (unit of the cohort): uniformly spread, or with staggered
    entry (``TrialCohort.as_of``) thinning out towards ``end`` (a triangular density peaking at ``start``), as
    fewer subjects remain followed there."""

    count: int
    start: float
    end: float


@dataclass(frozen=True)
class ArmCohort:
    arm_code: str
    allocated: int
    male: int  # among the allocated
    age: Spread
    labs: dict[str, Spread]
    withdrawn: int = 0
    lost: int = 0
    deaths: tuple[Events, ...] = ()
    hcc: tuple[Events, ...] = ()
    infusion_fevers: int = 0
    meld_above_15: int | None = None  # among the analysed
    child_pugh: tuple[int, int, int] | None = None  # A, B, C among the analysed
    ascites: int | None = None  # with ascites, among the analysed
    male_analysed: int | None = None  # of ``male``, how many among the analysed (else spread at random)
    hbeag_positive: int | None = None  # HBeAg positive among the analysed (None: HBeAg not measured)
    # Published median (range) follow-up of the analysed, in the cohort's unit: entry is staggered to give it.
    follow_up: Spread | None = None
    meld_change: float = 0.0  # typical MELD-like change of a survivor once settled (negative: better)


@dataclass(frozen=True)
class TrialCohort:
    study_code: str
    time_unit: str  # "weeks" or "months": how the paper counts follow-up
    follow_up: float  # in time_unit, as the protocol sets it
    enrolment: tuple[str, str]  # first and last allocation date, ISO
    arms: tuple[ArmCohort, ...]
    refused_consent: int = 0
    ineligible: int = 0
    background: tuple[str, ...] = field(default=())
    # Data cut-off, ISO: if given, each subject enters ``ArmCohort.follow_up`` before it (within ``enrolment``)
    # and survivors are followed to it; otherwise entry is spread evenly and survivors stop at ``follow_up``.
    as_of: str | None = None
    settle_time: float = 1.0  # time constant of survivors' lab changes, in time_unit


# Trial A, ACLF (NCT01218464): 43 patients, 24 UC-MSC and 19 controls; deaths within 12 weeks 5 vs 11;
# 2 self-limiting infusion fevers with UC-MSC; followed to 72 weeks 21/24 and 17/19 (the rest lost).
ACLF = TrialCohort(
    study_code="ACLF",
    time_unit="weeks",
    follow_up=72,
    enrolment=("2009-03-03", "2010-09-03"),
    settle_time=10,
    arms=(
        ArmCohort(
            arm_code="UCMSC",
            allocated=24,
            male=20,
            age=Spread(40, low=24, high=59),
            labs={
                "TBIL": Spread(300, low=124.7, high=631.3),
                "ALB": Spread(32, low=24, high=44),
                "ALT": Spread(180, low=17, high=1065),
                "CHE": Spread(3200, low=1031, high=6782),
                "PTA": Spread(30, low=13, high=40),
                "PLT": Spread(80, low=15, high=190),
                "TP": Spread(56, low=42, high=70),
            },
            lost=3,
            deaths=(Events(5, 1, 12),),
            infusion_fevers=2,
            meld_change=-9,  # MELD fell in both arms, more with UC-MSC; ALB, CHE and PTA rose earlier (paper)
        ),
        ArmCohort(
            arm_code="CONTROL",
            allocated=19,
            male=15,
            age=Spread(45, low=26, high=62),
            labs={
                "TBIL": Spread(330, low=136.8, high=678.5),
                "ALB": Spread(31, low=22, high=42),
                "ALT": Spread(170, low=25, high=762),
                "CHE": Spread(3000, low=983, high=6141),
                "PTA": Spread(28, low=15, high=40),
                "PLT": Spread(78, low=18.4, high=187),
                "TP": Spread(57, low=39, high=74),
            },
            lost=2,
            deaths=(Events(11, 1, 12),),
            meld_change=-3,  # ALB "did not show any obvious change" with saline (paper, Fig. 3A)
        ),
    ),
)

# Trial B, DLC (NCT01220492): 252 screened, 1 refused and 1 ineligible, 125 per arm; consent withdrawn 10/10;
# lost 4 (control) and 7 (UC-MSC); analysed 111/108; HCC 23 control vs 13 UC-MSC; 7 infusion fevers.
# Deaths: the paper gives HR 1.89 (control vs UC-MSC), 0.97 before 13 months and 3.68 after; our split follows.
# Follow-up ran from October 2010 to October 2017 with a median of 57 (2-82) and 61 (1-85) months: patients
# entered over about four years, so late entrants were followed for less than the protocol's 75 months.
DLC = TrialCohort(
    study_code="DLC",
    time_unit="months",
    follow_up=75,
    enrolment=("2010-10-22", "2017-10-30"),  # screened between 2010-10-15 and 2017-10-30 (paper, Results)
    as_of="2017-10-30",
    settle_time=6,
    refused_consent=1,
    ineligible=1,
    arms=(
        ArmCohort(
            arm_code="CONTROL",
            allocated=125,
            male=96 + 9,
            male_analysed=96,  # 96/15 among the 111 analysed (paper, Table 1)
            age=Spread(47, low=19, high=65),
            labs={
                "TP": Spread(61.5, sd=7.4),
                "ALB": Spread(30.5, sd=6.2),
                "PLT": Spread(83, sd=95),
                "CREA": Spread(84.9, sd=62.6),
                "ALT": Spread(59.6, sd=79.4),
                "AST": Spread(70.4, sd=61.5),
                "TBIL": Spread(33.2, sd=29.8),
                "PTA": Spread(62.4, sd=16.3),
                "CHE": Spread(3337, sd=1335),
                "INR": Spread(1.32, sd=0.21),
            },
            withdrawn=10,
            lost=4,
            deaths=(Events(7, 2, 13), Events(17, 13, 75)),  # the shortest follow-up is 2 months
            hcc=(Events(3, 1, 8), Events(20, 8, 75)),
            meld_above_15=15,
            child_pugh=(20, 73, 18),
            ascites=93,
            hbeag_positive=28,  # 28/111 (25.2%, paper, Table 1)
            follow_up=Spread(57, low=2, high=82),
            meld_change=-1.5,  # ALB rose in both arms over 48 weeks (paper, Fig. 4A)
        ),
        ArmCohort(
            arm_code="UCMSC",
            allocated=125,
            male=94 + 15,
            male_analysed=94,  # 94/14 among the 108 analysed
            age=Spread(48, low=21, high=65),
            labs={
                "TP": Spread(62.8, sd=8.0),
                "ALB": Spread(30.9, sd=5.9),
                "PLT": Spread(90, sd=105),
                "CREA": Spread(82.5, sd=23.4),
                "ALT": Spread(42.4, sd=49.2),
                "AST": Spread(65.8, sd=43.7),
                "TBIL": Spread(76.0, sd=127.9),
                "PTA": Spread(63.3, sd=16.5),
                "CHE": Spread(2812, sd=1560),
                "INR": Spread(1.33, sd=0.26),
            },
            withdrawn=10,
            lost=7,
            deaths=(Events(7, 1, 13), Events(5, 13, 75)),  # the shortest follow-up is 1 month
            hcc=(Events(3, 1, 8), Events(10, 8, 75)),
            infusion_fevers=7,
            meld_above_15=19,
            child_pugh=(14, 68, 26),
            ascites=86,
            hbeag_positive=30,  # 30/108 (27.8%)
            follow_up=Spread(61, low=1, high=85),
            meld_change=-3.5,  # ALB higher than control at 24 and 48 weeks; PTA, CHE up and TBIL down (Fig. 4)
        ),
    ),
)

COHORTS = {cohort.study_code: cohort for cohort in (ACLF, DLC)}
