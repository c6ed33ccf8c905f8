"""allotment: a self-hostable pricing, credits and entitlements engine that speaks Autumn's API.

from allotment import Allotment
autumn = Allotment()  # ./allotment.db, or ALLOTMENT_DATABASE_URL, or a URL argument
"""

from allotment.domain.errors import AllotmentError, ErrorCode
from allotment.embedded import Allotment

__all__ = ["Allotment", "AllotmentError", "ErrorCode"]
