"""`incidents init` on real folders and repositories."""

from __future__ import annotations

from pathlib import Path

import git
import yaml

from incidents_cli import __version__

from .conftest import run_cli


def test_init_makes_the_repository_with_one_commit(tmp_path: Path) -> None:
    target = tmp_path / "team-incidents"
    result = run_cli("init", str(target))
    assert result.code == 0, result.err
    repo = git.Repo(target)
    commits = list(repo.iter_commits())
    assert len(commits) == 1
    committed = {item.path for item in commits[0].tree.traverse() if item.type == "blob"}
    assert {
        "incidents.yaml",
        "oncall.yaml",
        "incidents/.gitkeep",
        "postmortems/.gitkeep",
        "runbooks/database-connection-pool-exhaustion.md",
        "runbooks/bad-deploy-rollback.md",
        "runbooks/expired-tls-certificate.md",
        "runbooks/third-party-provider-outage.md",
        ".github/workflows/incidents-check.yml",
    } <= committed
    assert not any(path.startswith(".github/workflows/tool-") for path in committed)
    assert not repo.is_dirty(untracked_files=True)
    assert run_cli("validate", cwd=target).code == 0


def test_settings_explain_every_setting(repo: Path) -> None:
    text = (repo / "incidents.yaml").read_text()
    data = yaml.safe_load(text)
    assert set(data) == {
        "title",
        "base_url",
        "timezone",
        "language",
        "id_prefix",
        "push",
        "components",
        "severities",
        "postmortem",
        "alerts",
        "people",
    }
    for key in data:
        line = next(i for i, row in enumerate(text.splitlines()) if row.startswith(f"{key}:"))
        assert text.splitlines()[line - 1].startswith("#"), f"{key} has no comment above it"
    assert data["severities"]["critical"]["ack_within"] == "5m"
    assert data["postmortem"] == {"required_for": ["critical", "high"], "due_within": "48h"}


def test_workflows_install_this_version_kept_in_the_repository(repo: Path) -> None:
    text = (repo / ".github/workflows/incidents-check.yml").read_text()
    assert "python -m pip install --requirement .incidents/requirements.txt" in text
    requirements = (repo / ".incidents/requirements.txt").read_text()
    assert f"./.incidents/incidents-{__version__}-py3-none-any.whl" in requirements.splitlines()


def test_init_never_overwrites_and_lists_what_it_skipped(tmp_path: Path) -> None:
    target = tmp_path / "r"
    target.mkdir()
    git.Repo.init(target)
    (target / "incidents.yaml").write_text("title: Ours\ncomponents: [{id: x, name: X}]\n")
    (target / "notes.txt").write_text("unrelated work in progress\n")
    result = run_cli("init", str(target))
    assert result.code == 0, result.err
    assert "skipped  incidents.yaml (exists)" in result.out
    assert (target / "incidents.yaml").read_text().startswith("title: Ours")
    repo = git.Repo(target)
    assert "incidents.yaml" not in repo.head.commit.tree
    assert repo.untracked_files == ["incidents.yaml", "notes.txt"]
    again = run_cli("init", str(target))
    assert again.code == 0
    assert "Nothing to do" in again.out
    assert len(list(repo.iter_commits())) == 1


def test_init_does_not_commit_a_persons_staged_work(tmp_path: Path) -> None:
    target = tmp_path / "r"
    target.mkdir()
    repo = git.Repo.init(target)
    (target / "draft.md").write_text("half-written\n")
    repo.index.add(["draft.md"])
    assert run_cli("init", str(target)).code == 0
    assert "draft.md" not in repo.head.commit.tree
    assert "draft.md" in [entry[0] for entry in repo.index.entries]


def test_init_without_git_identity_writes_nothing(tmp_path: Path) -> None:
    home = Path.home()
    (home / ".gitconfig").write_text("[user]\n\tuseConfigOnly = true\n")
    target = tmp_path / "r"
    result = run_cli("init", str(target))
    assert result.code == 2
    assert result.err.startswith("git does not know who you are: run `git config --global")
    assert [p.name for p in target.iterdir()] == [".git"]


def test_init_in_a_subfolder_of_a_repository(tmp_path: Path) -> None:
    repo = git.Repo.init(tmp_path)
    (tmp_path / "README").write_text("app\n")
    repo.index.add(["README"])
    repo.index.commit("app")
    result = run_cli("init", "ops/incidents", cwd=tmp_path)
    assert result.code == 0, result.err
    committed = repo.git.ls_tree("-r", "--name-only", "HEAD").splitlines()
    assert "ops/incidents/incidents.yaml" in committed and "README" in committed
    assert run_cli("validate", cwd=tmp_path / "ops" / "incidents" / "runbooks").code == 0


def test_init_in_a_folder_the_enclosing_repository_ignores(tmp_path: Path) -> None:
    repo = git.Repo.init(tmp_path)
    (tmp_path / ".gitignore").write_text("/scratch/\n")
    repo.index.add([".gitignore"])
    repo.index.commit("ignore scratch")
    result = run_cli("init", str(tmp_path / "scratch"))
    assert result.code == 2
    assert result.err == (
        f"{tmp_path / 'scratch'} is ignored by the .gitignore of the repository around it "
        f"({tmp_path}); run `git init {tmp_path / 'scratch'}` first, or choose another folder\n"
    )
    assert list((tmp_path / "scratch").iterdir()) == []


def test_demo_inside_a_checkout_makes_a_repository_of_its_own(tmp_path: Path) -> None:
    outer = git.Repo.init(tmp_path)
    (tmp_path / ".gitignore").write_text("/incidents-demo/\n")
    outer.index.add([".gitignore"])
    outer.index.commit("a project that ignores its demo folder")
    result = run_cli("demo", cwd=tmp_path)
    assert result.code == 0, result.err
    demo = tmp_path / "incidents-demo"
    assert git.Repo(demo).working_tree_dir == str(demo)
    assert len(list(outer.iter_commits())) == 1
