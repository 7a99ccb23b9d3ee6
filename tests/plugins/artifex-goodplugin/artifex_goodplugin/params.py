from pydantic import BaseModel, ConfigDict, Field


class TinyVAEParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kl_weight: float = Field(1.0, ge=0)
    free_bits: float = Field(0.0, ge=0, description="Ignored; shows plugin-specific parameters validate.")
