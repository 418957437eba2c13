"""``flow_from_dataframe``'s ``DataFrameIterator``: image files and labels listed in a pandas
DataFrame (pandas is the caller's; augcore.keras never imports it).

Column checks, class filtering, subsets, every ``class_mode`` and the messages follow Keras 3's
legacy ``DataFrameIterator``; Keras's TypeErrors are ``ArgumentTypeError``s.
"""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from augcore.errors import ConfigError
from augcore.keras._errors import ArgumentTypeError
from augcore.keras._files import BatchFromFilesMixin, check_class_mode

if TYPE_CHECKING:
    from augcore.keras._generator import ImageDataGenerator


class DataFrameIterator(BatchFromFilesMixin):
    """Batches from a pandas DataFrame of file names and labels (pandas is the caller's)."""

    allowed_class_modes: ClassVar[set[str | None]] = {
        "binary",
        "categorical",
        "input",
        "multi_output",
        "raw",
        "sparse",
        None,
    }

    def __init__(
        self,
        dataframe: Any,
        directory: str | os.PathLike[str] | None = None,
        image_data_generator: ImageDataGenerator | None = None,
        x_col: str = "filename",
        y_col: Any = "class",
        weight_col: str | None = None,
        target_size: tuple[int, int] = (256, 256),
        color_mode: str = "rgb",
        classes: list[str] | None = None,
        class_mode: str | None = "categorical",
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        data_format: str = "channels_last",
        save_to_dir: Any = None,
        save_prefix: str = "",
        save_format: str = "png",
        subset: str | None = None,
        interpolation: str = "nearest",
        keep_aspect_ratio: bool = False,
        dtype: Any = "float32",
        validate_filenames: bool = True,
    ) -> None:
        self.set_processing_attrs(
            image_data_generator,
            target_size,
            color_mode,
            data_format,
            save_to_dir,
            save_prefix,
            save_format,
            subset,
            interpolation,
            keep_aspect_ratio,
        )
        df = dataframe.copy()
        self.directory = os.fspath(directory) if directory else ""
        self.class_mode = class_mode
        self.dtype = dtype
        self._check_params(df, x_col, y_col, weight_col, classes)
        if validate_filenames:
            df = self._filter_valid_filepaths(df, x_col)
        num_classes = 0
        if class_mode not in ["input", "multi_output", "raw", None]:
            df, classes = self._filter_classes(df, y_col, classes)
            num_classes = len(classes)
            self.class_indices = dict(zip(classes, range(len(classes)), strict=True))
        if self.split:
            start, stop = int(self.split[0] * len(df)), int(self.split[1] * len(df))
            df = df.iloc[start:stop, :]
        if class_mode not in ["input", "multi_output", "raw", None]:
            self.classes = self.get_classes(df, y_col)
        self.filenames = df[x_col].tolist()
        self._sample_weight = df[weight_col].values if weight_col else None
        if class_mode == "multi_output":
            self._targets = [np.array(df[col].tolist()) for col in y_col]
        if class_mode == "raw":
            self._targets = df[y_col].values
        self.samples = len(self.filenames)
        validated = "validated" if validate_filenames else "non-validated"
        if class_mode in ["input", "multi_output", "raw", None]:
            print(f"Found {self.samples} {validated} image filenames.")
        else:
            print(
                f"Found {self.samples} {validated} image filenames belonging to "
                f"{num_classes} classes."
            )
        self._filepaths = [os.path.join(self.directory, fname) for fname in self.filenames]
        super().__init__(self.samples, batch_size, shuffle, seed)

    def _check_params(
        self, df: Any, x_col: str, y_col: Any, weight_col: str | None, classes: Any
    ) -> None:
        check_class_mode(self.class_mode, self.allowed_class_modes)
        if self.class_mode == "multi_output" and not isinstance(y_col, list):
            raise ArgumentTypeError(
                f'If class_mode="{self.class_mode}", y_col must be a list. '
                f"Received {type(y_col).__name__}."
            )
        if not all(df[x_col].apply(lambda x: isinstance(x, str))):
            raise ArgumentTypeError(f"All values in column x_col={x_col} must be strings.")
        if self.class_mode in {"binary", "sparse"} and not all(
            df[y_col].apply(lambda x: isinstance(x, str))
        ):
            raise ArgumentTypeError(
                f'If class_mode="{self.class_mode}", y_col="{y_col}" column values must be strings.'
            )
        if self.class_mode == "binary":
            if classes and len(set(classes)) != 2:
                raise ConfigError(
                    'If class_mode="binary" there must be 2 classes. '
                    f"{len(set(classes))} class/es were given."
                )
            if not classes and df[y_col].nunique() != 2:
                raise ConfigError(
                    'If class_mode="binary" there must be 2 classes. '
                    f"Found {df[y_col].nunique()} classes."
                )
        if self.class_mode == "categorical" and not all(
            df[y_col].apply(lambda x: isinstance(x, (str, list, tuple)))
        ):
            raise ArgumentTypeError(
                f'If class_mode="{self.class_mode}", y_col="{y_col}" column values must be type '
                "string, list or tuple."
            )
        if classes and self.class_mode in {"input", "multi_output", "raw", None}:
            warnings.warn(
                f'`classes` will be ignored given the class_mode="{self.class_mode}"',
                stacklevel=3,
            )
        if weight_col and not issubclass(df[weight_col].dtype.type, np.number):
            raise ArgumentTypeError(f"Column weight_col={weight_col} must be numeric.")

    def get_classes(self, df: Any, y_col: str) -> list[Any]:
        labels = []
        for label in df[y_col]:
            if isinstance(label, (list, tuple)):
                labels.append([self.class_indices[lbl] for lbl in label])
            else:
                labels.append(self.class_indices[label])
        return labels

    @staticmethod
    def _filter_classes(df: Any, y_col: str, classes: Any) -> tuple[Any, list[str]]:
        df = df.copy()

        def remove_classes(labels: Any, kept: list[str]) -> Any:
            if isinstance(labels, (list, tuple)):
                return [cls for cls in labels if cls in kept] or None
            if isinstance(labels, str):
                return labels if labels in kept else None
            raise ArgumentTypeError(
                f"Expect string, list or tuple but found {type(labels)} in {y_col} column "
            )

        if classes:
            classes = list(dict.fromkeys(classes))
            df[y_col] = df[y_col].apply(lambda x: remove_classes(x, classes))
        else:
            found: set[str] = set()
            for v in df[y_col]:
                if isinstance(v, (list, tuple)):
                    found.update(v)
                else:
                    found.add(v)
            classes = sorted(found)
        return df.dropna(subset=[y_col]), classes

    def _filter_valid_filepaths(self, df: Any, x_col: str) -> Any:
        """Keep the rows whose file exists and has an image extension (warn about the rest)."""
        filepaths = df[x_col].map(lambda fname: os.path.join(self.directory, fname))
        mask = filepaths.apply(
            lambda path: path.lower().endswith(self.white_list_formats) and os.path.isfile(path)
        )
        n_invalid = (~mask).sum()
        if n_invalid:
            warnings.warn(
                f'Found {n_invalid} invalid image filename(s) in x_col="{x_col}". '
                "These filename(s) will be ignored.",
                stacklevel=3,
            )
        return df[mask]

    @property
    def labels(self) -> Any:
        if self.class_mode in {"multi_output", "raw"}:
            return self._targets
        return self.classes

    @property
    def sample_weight(self) -> Any:
        return self._sample_weight
