"""The consortium's shared schema for an imaging task: image size, channels, classes, labels file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bcfl.learning.data.dataset import ModelSpec
from bcfl.learning.data.table_schema import read_schema_file


class ImageSchema(BaseModel):
    """Every hospital resizes its images to ``image_size`` square with ``channels`` channels.

    A hospital's image folder holds the images (PNG, JPEG or DICOM, in any sub-folders) and a
    labels CSV naming each image's file (relative to the folder) and its class, one of ``classes``.
    Class indices are positions in ``classes``: the same on every site.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    modality: Literal["image"]
    name: str
    version: int = 1
    image_size: int = Field(ge=8, le=512)
    channels: Literal[1, 3]
    classes: tuple[str, ...] = Field(min_length=2)
    labels_file: str = "labels.csv"
    file_column: str = "file"
    label_column: str = "label"
    min_images: int = Field(default=20, ge=1)
    #: Each class needs at least this many images at every site.
    min_per_class: int = Field(default=1, ge=1)
    #: A MedMNIST ``.npz`` read instead of a folder must be this MedMNIST data set (e.g. "pathmnist").
    medmnist_flag: str | None = None

    @field_validator("classes")
    @classmethod
    def _distinct(cls, classes: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(classes)) != len(classes):
            raise ValueError("class names must be distinct")
        return classes

    @classmethod
    def load(cls, path: Path) -> ImageSchema:
        """Read a schema JSON file, with a clear error for a missing or invalid one."""
        return read_schema_file(cls, path)

    def model_spec(self) -> ModelSpec:
        """Channels-first images in, one class out."""
        return ModelSpec((self.channels, self.image_size, self.image_size), len(self.classes))
