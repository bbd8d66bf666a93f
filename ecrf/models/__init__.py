from ecrf.models.organisation import Membership, Site, Study, StudySite

__all__ = ["Membership", "Site", "Study", "StudySite"]
