from pydantic import Field

from artifex_core import VariantParams


class TinyVAEParams(VariantParams):
    kl_weight: float = Field(1.0, ge=0)
    free_bits: float = Field(0.0, ge=0, description="Ignored; shows plugin-specific parameters validate.")
