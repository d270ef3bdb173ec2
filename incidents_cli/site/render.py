"""Templates and Markdown: the one module that imports jinja2 (and markdown-it).

Autoescaping is on for every template (HTML, XML feeds and SVG alike), undefined names are
errors, and Markdown is rendered with raw HTML off, images off and only safe link schemes.
A repository's own ``templates/`` folder overrides any built-in template by name.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path
from types import FunctionType
from typing import Any

from incidents_cli.core.errors import IncidentsError
from incidents_cli.core.findings import Finding
from incidents_cli.core.text import xml_safe
from incidents_cli.store.resources import data_dir, user_cache_dir


@cache
def _markdown() -> Any:
    from markdown_it import MarkdownIt

    # commonmark, with raw HTML shown as text; markdown-it's link validator already drops
    # javascript:, vbscript:, file: and data: links. Images are off: a status page should
    # not load pictures from wherever an update's author pointed.
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable("image")
    return md


# One line of words and plain punctuation, starting with a letter or with digits that do
# not number a list item (``2.``, ``2)``): CommonMark makes it a paragraph of the escaped
# text, so the parser can be skipped (most status updates, "5xx errors in the API" too).
_PLAIN = re.compile(r"(?:[A-Za-z]|[0-9]+(?![0-9.)]))[A-Za-z0-9 ,.;:'()?!%/-]*")


@lru_cache(maxsize=4096)
def markdown(text: str) -> Any:
    """Markdown as safe HTML (a Markup object, so templates do not escape it again)."""
    from markupsafe import Markup

    stripped = text.strip(" ")
    # four spaces or more before the text make it a code block, not a paragraph
    if _PLAIN.fullmatch(stripped) and not text.startswith("    "):
        # The pattern admits no <, >, & or ": nothing in it needs escaping.
        return Markup(f"<p>{stripped}</p>\n")
    return Markup(_markdown().render(text))  # html is off: see _markdown


ENVIRONMENT_REVISION = "3"
"""Changes whenever _environment's options do: compiled templates are kept under it."""


def _bytecode_cache(language: str | None) -> Any:
    """Compiled templates, kept in the user's cache (jinja keys them by name, file and a
    checksum of the source): compiling them costs every site build 0.1 s otherwise. The code
    jinja compiles depends on the environment's options too (a finalize function, the
    sandbox's checks of calls) and on the catalogue (the built-in templates' fixed texts
    are compiled in: _fixed_texts), so each revision of them, of the catalogue,
    of the tool and of jinja keeps files of its own."""
    import hashlib

    from jinja2 import FileSystemBytecodeCache
    from jinja2 import __version__ as jinja_version

    from incidents_cli.site.i18n import catalogue_key
    from incidents_cli.store.resources import tool_key

    class QuietCache(FileSystemBytecodeCache):
        def dump_bytecode(self, bucket: Any) -> None:
            with contextlib.suppress(OSError):  # a cache that cannot be written: slower
                super().dump_bytecode(bucket)

    catalogue = catalogue_key(language) if language is not None else ""
    kind = f"{tool_key()}\x00{jinja_version}\x00{ENVIRONMENT_REVISION}\x00{catalogue}"
    tag = hashlib.sha256(kind.encode("utf-8")).hexdigest()[:16]
    folder = user_cache_dir() / "templates"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return QuietCache(str(folder), f"{tag}-%s.cache")
    except (OSError, RuntimeError):  # RuntimeError: jinja refuses an unsafe folder
        return None


TEMPLATES_DIR = "templates"


def _symlink_in(folder: Path, rel: str) -> str | None:
    """The first part of ``folder/rel`` (from ``folder`` itself down) that is a symlink."""
    path = folder
    if path.is_symlink():
        return ""
    for part in rel.split("/"):
        path = path / part
        if path.is_symlink():
            return str(path.relative_to(folder))
    return None


def _repository_loader(folder: Path) -> Any:
    """A repository's own templates: regular files inside its templates/ folder only (a
    symlink could publish any file of the machine, .git/config included)."""
    from jinja2 import FileSystemLoader

    class NoLinksLoader(FileSystemLoader):
        def get_source(self, environment: Any, template: str) -> Any:
            link = _symlink_in(folder, template)
            if link is not None:
                shown = f"{TEMPLATES_DIR}/{link}".rstrip("/")
                raise IncidentsError(
                    f"{shown}: is a symlink; templates must be regular files (refused)"
                )
            return super().get_source(environment, template)

    return NoLinksLoader(folder)


def _files_under(folder: str) -> list[tuple[str, bytes, bool]]:
    """Every file below ``folder`` (its path relative to it, and its bytes; a symlink's
    target instead of what it points to, never followed), in a stable order."""
    found: list[tuple[str, bytes, bool]] = []
    base = Path(folder)
    for top, dirs, files in os.walk(folder):  # os.walk does not enter linked folders
        dirs.sort()
        here = Path(top)
        for name in sorted(files + [d for d in dirs if (here / d).is_symlink()]):
            path = here / name
            link = path.is_symlink()
            try:
                content = (
                    str(path.readlink()).encode("utf-8", "surrogateescape")
                    if link
                    else path.read_bytes()
                )
            except OSError:
                content = b"\xff"  # unreadable: a file of its own kind
            found.append((path.relative_to(base).as_posix(), content, link))
    return found


def _binds_underscore(folder: Path) -> bool:
    """Whether a template in ``folder`` (a repository's) gives the name ``_`` a value of
    its own. One that cannot be read or parsed is left to the template checks."""
    from jinja2 import Environment, TemplateSyntaxError

    parser = Environment(extensions=["jinja2.ext.i18n"])
    binds = _fixed_texts().binds_underscore
    for _, content, link in _files_under(str(folder)):
        if link:  # refused where it is loaded
            continue
        try:
            if binds(parser.parse(content.decode("utf-8"))):
                return True
        except (UnicodeDecodeError, TemplateSyntaxError):
            continue
    return False


_DICT_ATTRIBUTES = frozenset(dir(dict))


@cache
def _fixed_texts() -> Any:
    from jinja2 import nodes
    from jinja2.visitor import NodeTransformer

    class FixedTexts(NodeTransformer):
        """``_("text")`` in a built-in template, compiled as the text it gives: jinja then
        writes it into the template like the HTML around it, instead of calling gettext on
        every page. Only in the built-in templates, and not in one that gives ``_`` a
        value of its own (a repository's templates are compiled as they are)."""

        def __init__(self, fixed_text: Callable[[str], str | None]) -> None:
            self.fixed_text = fixed_text

        @staticmethod
        def binds_underscore(tree: Any) -> bool:
            """Whether the template gives the name ``_`` a value of its own."""
            for node in tree.find_all((nodes.Name, nodes.Macro, nodes.Import, nodes.FromImport)):
                if isinstance(node, nodes.FromImport):
                    names = [n if isinstance(n, str) else n[-1] for n in node.names]
                else:
                    names = [getattr(node, "target", None) or node.name]
                if "_" in names and getattr(node, "ctx", "store") != "load":
                    return True
            return False

        def visit_Call(self, node: Any) -> Any:
            node = self.generic_visit(node)
            if not (
                isinstance(node.node, nodes.Name)
                and node.node.name == "_"
                and len(node.args) == 1
                and isinstance(node.args[0], nodes.Const)
                and isinstance(node.args[0].value, str)
                and not node.kwargs
                and node.dyn_args is None
                and node.dyn_kwargs is None
            ):
                return node
            text = self.fixed_text(node.args[0].value)
            if text is None:
                return node  # fails as the call would, when rendered
            # what gettext returns: Markup where the template escapes, else the text
            fixed = nodes.Const(text, lineno=node.lineno)
            return nodes.MarkSafeIfAutoescape(fixed, lineno=node.lineno)

    return FixedTexts


@cache
def _sandbox_base() -> Any:
    """Jinja's immutable sandbox, with the built-in templates' fixed texts compiled in
    (_fixed_texts) and two short ways through what every page does a hundred times:
    - a field of a context: contexts are dicts, and `incident.title` is
      ``incident["title"]`` wherever a dict has no attribute of that name (which jinja
      would find first), without jinja's raising and catching an AttributeError each time;
    - a printed text, escaped: jinja makes each one a Markup object, only to join them all
      into the page's text; plain text is escaped as plain text here (the same characters),
      anything else the way jinja does it.
    """
    from jinja2.compiler import CodeGenerator
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    fixed_texts = _fixed_texts()

    class Generator(CodeGenerator):
        def _output_child_pre(self, node: Any, frame: Any, finalize: Any) -> None:
            if frame.eval_ctx.volatile or not frame.eval_ctx.autoescape or finalize.src:
                super()._output_child_pre(node, frame, finalize)
            else:  # what is printed is joined into the page: no Markup needed
                self.write("environment.escape_printed(")

    class SandboxBase(ImmutableSandboxedEnvironment):
        code_generator_class = Generator
        fixed_text: Callable[[str], str | None] | None = None  # what _(text) gives, or None
        built_in = "\x00"  # the folder of the built-in templates: their file names start so

        def _parse(self, source: str, name: str | None, filename: str | None) -> Any:
            tree = super()._parse(source, name, filename)
            if (
                self.fixed_text is not None
                and (filename or "").startswith(self.built_in)
                and not fixed_texts.binds_underscore(tree)
            ):
                tree = fixed_texts(self.fixed_text).visit(tree)
            return tree

        def getattr(self, obj: Any, attribute: str) -> Any:
            if obj.__class__ is dict and attribute not in _DICT_ATTRIBUTES:
                try:
                    return obj[attribute]
                except KeyError:
                    pass  # undefined: as jinja says it
            return super().getattr(obj, attribute)

        escape_printed = staticmethod(_escape_printed())

    return SandboxBase


def _escape_printed() -> Callable[[Any], str]:
    """A printed value, escaped, as the text it adds to the page."""
    import markupsafe
    from markupsafe import Markup, escape

    # MarkupSafe 3: the function escape() wraps; an older one: the same text, through escape()
    plain: Callable[[str], str] = getattr(
        markupsafe, "_escape_inner", lambda text: str(escape(text))
    )

    def escape_printed(value: Any) -> str:
        kind = type(value)
        if kind is str:
            return plain(value)
        text: str = value if kind is Markup else escape(value)  # Markup: escape's answer
        return text

    return escape_printed


@cache
def _sandbox() -> Any:
    """The sandbox (_sandbox_base), with the checks of each call, each page's copy of the
    globals and each look-up of a template it imports made once where they can be."""
    from jinja2.runtime import Macro

    class Sandbox(_sandbox_base()):  # type: ignore[misc]
        direct: frozenset[Callable[..., Any]] = frozenset()
        """The renderer's own gettext functions: safe, and given the context as is."""

        def __init__(self, **options: Any) -> None:
            super().__init__(**options)
            self.loaded: dict[tuple[str, str | None], Any] = {}

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
            # A macro or our gettext: what jinja's checks would conclude, without making
            # them (or a derived context gettext does not read) on every call.
            kind = __obj.__class__
            if kind is Macro or (kind is FunctionType and __obj in __self.direct):
                kwargs.pop("_loop_vars", None)
                kwargs.pop("_block_vars", None)
                try:
                    if kind is Macro:
                        return __obj(*args, **kwargs)
                    return __obj(__context, *args, **kwargs)
                except StopIteration:
                    return __self.undefined("a callable raised a StopIteration exception")
            return super().call(__context, __obj, *args, **kwargs)

        def make_globals(self, d: Any) -> Any:
            # A dict rather than jinja's ChainMap over the environment's globals: every
            # page's context copies them, and every import compares their keys. The
            # renderer sets its globals before it loads a template, so nothing is missed.
            return {**self.globals, **(d or {})}

        def get_template(self, name: Any, parent: Any = None, globals: Any = None) -> Any:
            # A page's {% extends %} and {% from %} ask for the same templates every time:
            # found once (auto_reload is off, so jinja would return the same ones).
            if globals is not None or not isinstance(name, str):
                return super().get_template(name, parent, globals)
            key = (name, parent)
            found = self.loaded.get(key)
            if found is None:
                found = self.loaded[key] = super().get_template(name, parent)
            return found

    return Sandbox


def _environment(loader: Any, language: str | None = None) -> Any:
    """Templates a repository provides are data, not code: they render in jinja's sandbox
    (no attribute that starts with _, no changing objects), as the built-in ones do."""
    from jinja2 import StrictUndefined

    env = _sandbox()(
        loader=loader,
        # Everything is escaped except Markdown drafts (postmortems, runbooks), which are
        # files people edit, not pages browsers render.
        autoescape=lambda name: not (name or "").endswith(".md"),
        undefined=StrictUndefined,
        auto_reload=False,  # one build: no stat of every template file for every page
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=_bytecode_cache(language),
        extensions=["jinja2.ext.i18n"],
    )
    env.filters["markdown"] = markdown
    return env


def _gettext_functions(catalogue: Any) -> dict[str, Any]:
    """``_``, ``gettext`` and ``ngettext`` as jinja's newstyle i18n makes them (the text
    escaped where the template is, then filled in with %), in one call each instead of
    three, and a text without values looked up once: a page says a dozen of them."""
    from jinja2 import pass_context
    from markupsafe import Markup

    fixed: dict[tuple[str, bool], str] = {}

    @pass_context
    def gettext(context: Any, string: str, /, **variables: Any) -> str:
        escaped: bool = context.eval_ctx.autoescape
        if not variables and (string, escaped) in fixed:
            return fixed[string, escaped]
        text: str = catalogue.gettext(string)
        done: str = (Markup(text) if escaped else text) % variables
        if not variables:
            fixed[string, escaped] = done
        return done

    @pass_context
    def ngettext(context: Any, singular: str, plural: str, num: int, /, **variables: Any) -> str:
        variables.setdefault("num", num)
        text: str = catalogue.ngettext(singular, plural, num)
        done: str = (Markup(text) if context.eval_ctx.autoescape else text) % variables
        return done

    return {"_": gettext, "gettext": gettext, "ngettext": ngettext}


def _fixed_text(catalogue: Any, text: str) -> str | None:
    """What ``_(text)`` gives (the escaping aside), or None where that call fails."""
    try:
        done: str = catalogue.gettext(text) % {}
    except (TypeError, ValueError, KeyError):
        return None
    return done


class Renderer:
    def __init__(self, repository: Path | None = None, language: str = "en") -> None:
        from jinja2 import ChoiceLoader, FileSystemLoader

        from incidents_cli.site.i18n import translations

        self.repository = repository.resolve() if repository is not None else None
        folders = []
        fixed = True  # the built-in templates' fixed texts compiled in (_fixed_texts)
        if repository is not None and (
            (repository / TEMPLATES_DIR).is_dir() or (repository / TEMPLATES_DIR).is_symlink()
        ):
            folders.append(_repository_loader(repository / TEMPLATES_DIR))
            # not where a repository template gives `_` a value of its own: a built-in
            # template it extends or includes must call that one
            fixed = not _binds_underscore(repository / TEMPLATES_DIR)
        folders.append(FileSystemLoader(data_dir("templates")))
        # (without fixed texts, compiled as the environment without a language compiles)
        self.env = _environment(ChoiceLoader(folders), language if fixed else None)
        # _() and ngettext() in templates: the site's catalogue (i18n.py). Newstyle: the
        # arguments are escaped and %(name)s filled in by gettext itself.
        catalogue = translations(language)
        self.env.install_gettext_translations(catalogue, newstyle=True)
        functions = _gettext_functions(catalogue)
        self.env.globals.update(functions)
        self.env.direct = frozenset(functions.values())
        self.env.built_in = str(data_dir("templates")) + os.sep
        self.env.fixed_text = functools.partial(_fixed_text, catalogue) if fixed else None
        self._fingerprints: dict[tuple[str, ...], str] = {}
        self._everything: str | None = None
        self._folders = [str(f.searchpath[0]) for f in folders]

    def render(self, name: str, context: dict[str, Any]) -> str:
        # Without the characters XML cannot hold (feeds, badges): one pass over the page
        # rather than one call for every value it prints.
        return xml_safe(self._render(name, context))

    def render_bytes(self, name: str, context: dict[str, Any]) -> bytes:
        """``render``'s text, as the UTF-8 it is written in (made where it is rendered,
        and the characters XML cannot hold dropped from the bytes: the same, faster)."""
        return xml_safe_utf8(self._render(name, context).encode("utf-8"))

    def _render(self, name: str, context: dict[str, Any]) -> str:
        from jinja2 import TemplateError

        try:
            rendered: str = self.env.get_template(name).render(context)
        except TemplateError as exc:
            raise IncidentsError(f"{self._place(name, exc)}: template error: {exc}") from None
        except TypeError as exc:
            # jinja's words for a macro called with arguments it does not take: a mistake
            # in a template (a repository's), not a bug of ours
            if not str(exc).startswith("macro ") and not self._raised_by_repository(exc):
                raise
            raise IncidentsError(f"{self._place(name, exc)}: template error: {exc}") from None
        except IncidentsError:
            raise
        except Exception as exc:  # 1/0, a recursion, an overflow: in a repository's template
            if not self._raised_by_repository(exc):
                raise
            problem = str(exc) or type(exc).__name__
            raise IncidentsError(f"{self._place(name, exc)}: template error: {problem}") from None
        return rendered

    def _raised_by_repository(self, exc: BaseException) -> bool:
        """Whether the code that raised ``exc`` is a repository's own template: the innermost
        frame outside jinja2, markupsafe, this module's sandbox (the sandbox's limits raise
        from there) and the built-in templates (their macros, called by the repository's) is
        in the repository's templates folder. From our code, it stays a bug."""
        import traceback

        if self.repository is None:
            return False
        import jinja2
        import markupsafe

        libraries = (
            *(str(Path(m.__file__ or "").parent) + os.sep for m in (jinja2, markupsafe)),
            __file__,  # the sandbox's own calls (Sandbox.call) pass the error through
            self.env.built_in,  # a built-in macro the repository's template called wrongly
        )
        own = str(self.repository / TEMPLATES_DIR) + os.sep
        frames = [frame.f_code.co_filename for frame, _ in traceback.walk_tb(exc.__traceback__)]
        for filename in reversed(frames):
            if not filename.startswith(libraries):
                return filename.startswith(own)
        return False

    def load(self, *names: str) -> None:
        """Compile these templates now (forked workers then find them compiled). The
        Markdown parser is not made here but where a text first needs it: most status
        updates are one plain line (``markdown``), and importing markdown-it and making
        the parser cost a cold build more than a worker's making its own where one does."""
        from jinja2 import TemplateError

        for name in names:
            try:
                self.env.get_template(name)
            except TemplateError as exc:
                raise IncidentsError(f"{self._place(name, exc)}: template error: {exc}") from None

    def _place(self, name: str, exc: Exception) -> str:
        """file:line of a template error: a repository's own template relative to it."""
        import traceback

        filename: str | None = getattr(exc, "filename", None)  # syntax errors know theirs
        line: int | None = getattr(exc, "lineno", None)
        if filename is None:  # an error while rendering: jinja maps its frames to the file
            with contextlib.suppress(Exception):
                filename = self.env.get_template(name).filename
            for frame, lineno in traceback.walk_tb(exc.__traceback__):
                if filename is not None and frame.f_code.co_filename == filename:
                    line = lineno
        shown = filename or name
        if filename is not None and self.repository is not None:
            with contextlib.suppress(ValueError):
                shown = Path(filename).relative_to(self.repository).as_posix()
        return f"{shown}:{line or 1}"

    def fingerprint(self, *names: str) -> str:
        """A hash of these templates' sources as this renderer would load them, and of every
        other template it can load: a page includes, imports or extends templates that its
        own name does not tell (a repository's partial, say), and a change to any of them
        must render it again."""
        import hashlib

        if names in self._fingerprints:
            return self._fingerprints[names]
        digest = hashlib.sha256()
        for name in names:
            digest.update(name.encode("utf-8") + b"\x00" + self.source(name).encode("utf-8"))
        digest.update(self._every_template().encode("ascii"))
        self._fingerprints[names] = digest.hexdigest()
        return self._fingerprints[names]

    def _every_template(self) -> str:
        """A hash of every file in the folders templates are loaded from (the repository's
        and the built-in one): names and bytes, a symlink by where it points (never
        followed; loading one is refused anyway)."""
        import hashlib

        if self._everything is None:
            digest = hashlib.sha256()
            # by its role, not its path: the same commit gives the same keys (and manifest)
            # wherever the repository is cloned and the tool installed
            roles = ("repository", "built-in")[-len(self._folders) :]
            for role, folder in zip(roles, self._folders, strict=True):
                digest.update(f"{role}\x00".encode())
                for rel, content, link in _files_under(folder):
                    digest.update(rel.encode("utf-8", "surrogateescape") + b"\x00")
                    digest.update(b"->" if link else b"")
                    digest.update(content + b"\x00")
            self._everything = digest.hexdigest()
        return self._everything

    def source(self, name: str) -> str:
        """A static file from the templates (CSS), overridable like the rest."""
        loader = self.env.loader
        assert loader is not None
        text: str = loader.get_source(self.env, name)[0]
        return text


# In UTF-8, a byte below 0x20 is that control character and nothing else, and EF BF BE
# and EF BF BF are U+FFFE and U+FFFF (EF never continues a character): what xml_safe drops.
_NOT_XML_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
_NOT_XML_CHARACTERS = ("\ufffe".encode(), "\uffff".encode())


def xml_safe_utf8(data: bytes) -> bytes:
    """``xml_safe`` of UTF-8 text, on its bytes."""
    data = data.translate(None, _NOT_XML_BYTES)
    for character in _NOT_XML_CHARACTERS:
        if character in data:
            data = data.replace(character, b"")
    return data


# Static files of the templates folder: copied, never rendered.
_STATIC = (".css",)


def template_findings(repository: Path) -> list[Finding]:
    """Problems of a repository's own templates, for `incidents validate`: symlinks,
    syntax errors, and what the sandbox would refuse (attributes that start with _)."""
    from jinja2 import TemplateSyntaxError, nodes

    folder = repository / TEMPLATES_DIR
    if folder.is_symlink():
        return [Finding(TEMPLATES_DIR, 1, 1, "(file)", _LINK_MESSAGE)]
    if not folder.is_dir():
        return []
    env = _environment(None)
    findings: list[Finding] = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(repository).as_posix()
        if path.is_symlink():
            findings.append(Finding(rel, 1, 1, "(file)", _LINK_MESSAGE))
            continue
        if not path.is_file() or path.suffix in _STATIC or rel.startswith("templates/init/"):
            continue
        try:
            source = path.read_text(encoding="utf-8")
            tree = env.parse(source, name=rel, filename=rel)
        except UnicodeDecodeError:
            findings.append(Finding(rel, 1, 1, "(file)", "is not UTF-8 text"))
            continue
        except OSError as exc:
            findings.append(Finding(rel, 1, 1, "(file)", f"cannot be read: {exc.strerror}"))
            continue
        except TemplateSyntaxError as exc:
            findings.append(Finding(rel, exc.lineno or 1, 1, "(template)", exc.message or ""))
            continue
        for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
            name = node.attr if isinstance(node, nodes.Getattr) else None
            if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
                name = node.arg.value if isinstance(node.arg.value, str) else None
            if name is not None and name.startswith("_"):
                findings.append(
                    Finding(
                        rel,
                        node.lineno,
                        1,
                        "(template)",
                        f"uses {name!r}: templates render in a sandbox that refuses "
                        "attributes starting with _",
                    )
                )
    return findings


_LINK_MESSAGE = "is a symlink; templates must be regular files in the repository"
