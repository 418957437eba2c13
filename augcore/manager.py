"""The plugin manager: which transforms exist, and which plugin and distribution provide them.

Built-ins are registered from a fixed list of modules; third-party plugins come from entry
points in group ``"augcore"`` (importlib.metadata); code that embeds augcore can ``register``
a module or object directly. Everything is per instance: two managers (or two pipelines) in one
process never see each other's plugins.

Switches (constructor arguments, with environment variables for the command line):

- ``autoload=False`` or ``AUGCORE_DISABLE_PLUGIN_AUTOLOAD=1``: do not load entry points.
- ``block=["name", ...]`` or ``AUGCORE_BLOCK_PLUGINS=name,name``: never load or register the
  plugins with these names (entry-point names, or a built-in module's name).
- ``on_error="warn"`` or ``AUGCORE_PLUGIN_ERRORS=warn``: a plugin that fails to import, breaks
  the Transform contract or reuses a transform name is skipped with a ``PluginWarning``
  (listed in ``manager.problems``) instead of raising; the other plugins keep working.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import pluggy

from augcore import hookspecs
from augcore.errors import (
    ConfigError,
    DuplicateTransformError,
    PluginContractError,
    PluginError,
    PluginImportError,
    PluginWarning,
)
from augcore.transform import (
    RESERVED_KEYS,
    GeometricTransform,
    Param,
    PixelTransform,
    Transform,
    did_you_mean,
)

BUILTIN_MODULES = (
    "augcore.plugins.geometric",
    "augcore.plugins.canvas",
    "augcore.plugins.pixel",
    "augcore.plugins.color",
    "augcore.plugins.tone",
    "augcore.plugins.filters",
    "augcore.plugins.erase",
    "augcore.plugins.policy_ops",
)
ENTRY_POINT_GROUP = "augcore"
DISABLE_AUTOLOAD_ENV = "AUGCORE_DISABLE_PLUGIN_AUTOLOAD"
BLOCK_ENV = "AUGCORE_BLOCK_PLUGINS"
ON_ERROR_ENV = "AUGCORE_PLUGIN_ERRORS"
OnError = Literal["raise", "warn"]


@dataclass(frozen=True)
class PluginOrigin:
    """Where a plugin came from, for listings and error messages."""

    plugin: str
    distribution: str | None = None
    version: str | None = None
    builtin: bool = False

    @property
    def source(self) -> str:
        """Where the plugin comes from, in a word or two: what ``augcore plugins`` lists."""
        if self.builtin:
            return "built-in"
        if self.distribution:
            return f"{self.distribution} {self.version or '(unknown version)'}"
        return self.plugin

    def describe(self) -> str:
        """The plugin and its origin, for error messages."""
        if self.builtin:
            return f"built-in plugin {self.plugin!r}"
        if self.distribution:
            return f"plugin {self.plugin!r} from distribution {self.source}"
        return f"plugin {self.plugin!r} (registered directly)"


@dataclass(frozen=True)
class TransformInfo:
    """One available transform: its class and the plugin that provides it."""

    cls: type[Transform]
    origin: PluginOrigin

    @property
    def name(self) -> str:
        return self.cls.name

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.cls.name,
            "kind": self.cls.kind,
            "summary": self.cls.summary(),
            "class": f"{self.cls.__module__}.{self.cls.__qualname__}",
            "plugin": self.origin.plugin,
            "builtin": self.origin.builtin,
            "distribution": self.origin.distribution,
            "version": self.origin.version,
            "params": [param.to_json() for param in self.cls.params],
        }


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


class PluginManager:
    """Discovers and validates transform plugins; resolves transform names for pipelines."""

    def __init__(
        self,
        *,
        builtins: bool = True,
        autoload: bool | None = None,
        block: Iterable[str] = (),
        on_error: OnError | None = None,
    ) -> None:
        from_env = os.environ.get(ON_ERROR_ENV, "").strip().lower()
        on_error = on_error or ("warn" if from_env == "warn" else "raise")
        if on_error not in ("raise", "warn"):
            raise ConfigError(
                f"PluginManager: on_error must be 'raise' or 'warn', got {on_error!r}"
            )
        self.on_error: OnError = on_error
        self.problems: list[str] = []
        self._transforms: dict[str, TransformInfo] = {}
        self._blocked = set(block) | {
            name.strip() for name in os.environ.get(BLOCK_ENV, "").split(",") if name.strip()
        }
        self._pluggy = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self._pluggy.add_hookspecs(hookspecs)
        if builtins:
            for module_name in BUILTIN_MODULES:
                if module_name not in self._blocked:
                    origin = PluginOrigin(module_name, builtin=True)
                    self._add(importlib.import_module(module_name), origin)
        if autoload if autoload is not None else not _env_flag(DISABLE_AUTOLOAD_ENV):
            self.load_entry_points()

    # --- loading --------------------------------------------------------------------------
    def register(self, plugin: object, name: str | None = None) -> None:
        """Register a module or object with an ``augcore_transforms`` hookimpl (for embedders).

        Raises the plugin's error even in warn mode: the caller asked for it explicitly.
        """
        name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
        if name in self._blocked:
            return
        self._collect(plugin, PluginOrigin(name))

    def load_entry_points(self) -> None:
        """Load every entry point in group ``"augcore"`` of every installed distribution."""
        seen: set[tuple[str, str]] = set()
        for dist in importlib.metadata.distributions():
            ours = [ep for ep in dist.entry_points if ep.group == ENTRY_POINT_GROUP]
            if not ours:
                continue
            dist_name = dist.metadata["Name"] or "(unnamed distribution)"
            for entry_point in ours:
                if (dist_name, entry_point.name) in seen or entry_point.name in self._blocked:
                    continue
                seen.add((dist_name, entry_point.name))
                origin = PluginOrigin(entry_point.name, dist_name, dist.version)
                try:
                    plugin = entry_point.load()
                except Exception as exc:
                    self._report(
                        PluginImportError(
                            f"{origin.describe()} failed to import "
                            f"({entry_point.value}): {type(exc).__name__}: {exc}; "
                            f"fix or uninstall {dist_name}, or block it with "
                            f"{BLOCK_ENV}={entry_point.name}"
                        )
                    )
                    continue
                self._add(plugin, origin)

    def _add(self, plugin: object, origin: PluginOrigin) -> None:
        try:
            self._collect(plugin, origin)
        except PluginError as exc:
            self._report(exc)

    def _report(self, error: PluginError) -> None:
        if self.on_error == "raise":
            raise error
        self.problems.append(str(error))
        warnings.warn(str(error), PluginWarning, stacklevel=3)

    def _collect(self, plugin: object, origin: PluginOrigin) -> None:
        """Register ``plugin`` and add its transforms, all or nothing."""
        try:
            self._pluggy.register(plugin, name=origin.plugin)
        except (ValueError, pluggy.PluginValidationError) as exc:
            raise PluginContractError(f"{origin.describe()} cannot be registered: {exc}") from exc
        try:
            classes = self._call_hook(plugin, origin)
            found: dict[str, TransformInfo] = {}
            for cls in classes:
                _check_transform_class(cls, origin)
                clash = self._transforms.get(cls.name) or found.get(cls.name)
                if clash is not None:
                    raise DuplicateTransformError(
                        f"{origin.describe()} provides a transform named {cls.name!r}, "
                        f"already provided by {clash.origin.describe()}; "
                        f"block one of them with {BLOCK_ENV}"
                    )
                found[cls.name] = TransformInfo(cls, origin)
        except PluginError:
            self._pluggy.unregister(plugin)
            raise
        self._transforms.update(found)

    def _call_hook(self, plugin: object, origin: PluginOrigin) -> list[Any]:
        """``plugin``'s ``augcore_transforms()`` result, called through pluggy.

        The call is restricted to this one plugin with ``subset_hook_caller`` (the plugins
        registered before it were collected already, and each result must be attributed to
        its plugin for error messages), while pluggy still runs it as any hook call: hook
        call monitoring and tracing see it, and a future hookwrapper would wrap it.
        """
        hook = self._pluggy.hook.augcore_transforms
        if not any(impl.plugin is plugin for impl in hook.get_hookimpls()):
            raise PluginContractError(
                f"{origin.describe()} has no @augcore.hookimpl function augcore_transforms()"
            )
        others = [other for other in self._pluggy.get_plugins() if other is not plugin]
        call = self._pluggy.subset_hook_caller("augcore_transforms", remove_plugins=others)
        problem = f"{origin.describe()}: augcore_transforms() failed or did not return an iterable"
        try:
            results = call()
            classes = list(results[0]) if results else None  # pluggy leaves out a None result
        except PluginError:
            raise
        except Exception as exc:
            raise PluginContractError(
                f"{problem} of Transform classes: {type(exc).__name__}: {exc}"
            ) from exc
        if classes is None:
            raise PluginContractError(f"{problem} of Transform classes: it returned None")
        return classes

    # --- queries ----------------------------------------------------------------------------
    def get(self, name: str, where: str = "config") -> type[Transform]:
        """The transform class called ``name``; ConfigError with "did you mean" if none."""
        info = self._transforms.get(name) if isinstance(name, str) else None
        if info is None:
            failed = "".join(f"\n  {problem}" for problem in self.problems)
            raise ConfigError(
                f"{where}: unknown transform {name!r}{did_you_mean(name, self._transforms)}; "
                f"available: {', '.join(sorted(self._transforms))}. Third-party transforms need "
                "their plugin installed (augcore plugins)."
                + (f" These plugins failed to load:{failed}" if failed else "")
            )
        return info.cls

    def info(self, name: str) -> TransformInfo:
        self.get(name)
        return self._transforms[name]

    def transforms(self) -> list[TransformInfo]:
        """Every available transform, sorted by name."""
        return [self._transforms[name] for name in sorted(self._transforms)]

    def __contains__(self, name: object) -> bool:
        return name in self._transforms


def describe_transform(transform: Transform) -> str:
    """Name a transform, its module and distribution (looked up only on this error path)."""
    module = type(transform).__module__
    top_level = module.split(".")[0]
    names = importlib.metadata.packages_distributions().get(top_level, [])
    if top_level == "augcore" or not names:
        return f"transform {transform.name!r} from {module}"
    distribution = names[0]
    try:
        version = importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        version = "(unknown version)"
    return f"transform {transform.name!r} from {module} (distribution {distribution} {version})"


def _check_transform_class(cls: Any, origin: PluginOrigin) -> None:
    """Reject anything a pipeline could not use, naming the plugin and what is wrong."""
    where = f"{origin.describe()}: {cls!r}"
    if not (inspect.isclass(cls) and issubclass(cls, (GeometricTransform, PixelTransform))):
        raise PluginContractError(
            f"{where} is not a subclass of augcore.GeometricTransform or augcore.PixelTransform"
        )
    if not isinstance(cls.name, str) or not cls.name.isidentifier() or cls.name != cls.name.lower():
        raise PluginContractError(f"{where} needs a lower_snake_case class attribute 'name'")
    method = "matrices" if issubclass(cls, GeometricTransform) else "apply"
    base = GeometricTransform if method == "matrices" else PixelTransform
    if getattr(cls, method) is getattr(base, method):
        raise PluginContractError(f"{where} ({cls.name!r}) does not implement {method}()")
    if not isinstance(cls.params, tuple) or not all(isinstance(p, Param) for p in cls.params):
        raise PluginContractError(f"{where} ({cls.name!r}): params must be a tuple of Param")
    names = [param.name for param in cls.params]
    if len(set(names)) != len(names) or RESERVED_KEYS & set(names):
        raise PluginContractError(
            f"{where} ({cls.name!r}): parameter names must be unique and not one of "
            + ", ".join(sorted(RESERVED_KEYS))
        )
    try:
        cls()
    except ConfigError as exc:
        raise PluginContractError(
            f"{where} ({cls.name!r}): a declared default is invalid: {exc}"
        ) from exc
