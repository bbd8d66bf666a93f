from ecrf.models.base import FormSubmission
from ecrf.models.changes import StudyDataVersion
from ecrf.models.deviations import DeviationKind, ProtocolDeviation
from ecrf.models.events import (
    AdverseEvent,
    ConcomitantMedication,
    EndpointEvent,
    InfusionEvent,
    ReleaseResult,
)
from ecrf.models.monitoring import (
    OPEN_STATES,
    DataLock,
    DataQuery,
    QueryMessage,
    QueryMessageKind,
    QueryState,
    SourceVerification,
)
from ecrf.models.organisation import Membership, Site, Study, StudySite
from ecrf.models.plans import AnalysisPlanVersion
from ecrf.models.protocol import (
    Analyte,
    Arm,
    BackgroundMedication,
    EligibilityCriterion,
    EndpointCollection,
    InfusionPlan,
    LabPanel,
    ProtocolVersion,
    ReleaseCriterion,
    StratificationFactor,
    VisitDefinition,
)
from ecrf.models.randomisation import RandomisationList, RandomisationListAccess, RandomisationSlot
from ecrf.models.subjects import Allocation, AllocationMethod, EligibilityAnswer, Sex, Subject, SubjectStatus
from ecrf.models.visits import Ascites, ClinicalStatus, LabDraw, LabValue, Visit, VisitSignature, VisitStatus

__all__ = [
    "OPEN_STATES",
    "DataLock",
    "DataQuery",
    "QueryMessage",
    "QueryMessageKind",
    "QueryState",
    "SourceVerification",
    "AdverseEvent",
    "AnalysisPlanVersion",
    "Allocation",
    "AllocationMethod",
    "Analyte",
    "Arm",
    "Ascites",
    "BackgroundMedication",
    "ClinicalStatus",
    "ConcomitantMedication",
    "DeviationKind",
    "EligibilityAnswer",
    "EligibilityCriterion",
    "EndpointCollection",
    "EndpointEvent",
    "FormSubmission",
    "InfusionEvent",
    "InfusionPlan",
    "LabDraw",
    "LabPanel",
    "LabValue",
    "Membership",
    "ProtocolDeviation",
    "ProtocolVersion",
    "RandomisationList",
    "RandomisationListAccess",
    "RandomisationSlot",
    "ReleaseCriterion",
    "ReleaseResult",
    "Sex",
    "Site",
    "StratificationFactor",
    "Study",
    "StudyDataVersion",
    "StudySite",
    "Subject",
    "SubjectStatus",
    "Visit",
    "VisitDefinition",
    "VisitSignature",
    "VisitStatus",
]
