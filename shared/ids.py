"""Ids as they may arrive from outside: positive and within the database's integer range.

Without the bound a 20-digit id reaches the driver and fails as an overflow.
"""

from typing import Annotated

from pydantic import Field

MAX_ID = 2_147_483_647

DbId = Annotated[int, Field(ge=1, le=MAX_ID)]
