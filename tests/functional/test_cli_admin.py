"""`paperboy admin create-user` and `set-role`, in-process against the test's database."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from paperboy.cli import main
from paperboy.services.accounts import find_user, log_in
from paperboy.storage.schema import api_tokens, users

PASSWORD = "correct horse battery"


@pytest.fixture
def stdin(monkeypatch):
    """Pipe text into the command's standard input."""

    def pipe(text: str) -> None:
        monkeypatch.setattr("sys.stdin", io.StringIO(text))

    return pipe


def test_create_user_admin_with_the_password_on_stdin(cli_env, stdin, engine, settings, capsys):
    stdin(PASSWORD + "\n")
    assert main(["admin", "create-user", "Root@Example.org", "Boss", "--admin"]) == 0
    assert capsys.readouterr().out == "paperboy: created admin boss <root@example.org> (verified)\n"
    user = find_user(engine, "boss")
    assert user.is_admin
    assert user.verified
    with engine.connect() as conn:
        assert conn.execute(select(users.c.password_hash)).scalar_one().startswith("$argon2id$")
    assert log_in(engine, settings, email="root@example.org", password=PASSWORD, ip="127.0.0.1").user == user


def test_a_duplicate_is_a_one_line_error(cli_env, stdin, engine, capsys):
    stdin(PASSWORD)
    assert main(["admin", "create-user", "ada@example.org", "ada"]) == 0
    capsys.readouterr()
    stdin(PASSWORD)
    assert main(["admin", "create-user", "ada@example.org", "ada2", "--moderator"]) == 1
    err = capsys.readouterr().err
    assert err == "paperboy: error: an account with the e-mail ada@example.org or the name ada2 exists\n"
    assert find_user(engine, "ada2") is None


def test_moderator_unverified_and_password_stdin_flag(cli_env, stdin, engine, monkeypatch, capsys):
    stdin(PASSWORD + "\nnot read\n")
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)  # a terminal, but --password-stdin says otherwise
    assert (
        main(
            [
                "admin",
                "create-user",
                "mod@example.org",
                "mod",
                "--moderator",
                "--unverified",
                "--password-stdin",
            ]
        )
        == 0
    )
    assert "(unverified)" in capsys.readouterr().out
    user = find_user(engine, "mod")
    assert user.role == "moderator"
    assert not user.verified


@pytest.mark.parametrize(
    ("argv", "piped", "message"),
    [
        (["x@example.org", "a b"], PASSWORD, "A user name has 2 to 30 characters"),
        (["not-an-address", "ada"], PASSWORD, "Enter a valid e-mail address"),
        (["ada@example.org", "ada"], "", "no password on standard input"),
        (["ada@example.org", "ada"], "short\n", "Use a password of at least 10 characters."),
    ],
)
def test_bad_input_is_a_one_line_error(cli_env, stdin, engine, capsys, argv, piped, message):
    stdin(piped)
    assert main(["admin", "create-user", *argv]) == 1
    err = capsys.readouterr().err
    assert err.startswith("paperboy: error: ")
    assert message in err
    assert err.count("\n") == 1
    assert find_user(engine, "ada") is None


def test_the_password_is_asked_twice_on_a_terminal(cli_env, engine, monkeypatch, capsys):
    answers = iter([PASSWORD, PASSWORD + "typo"])
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    assert main(["admin", "create-user", "ada@example.org", "ada"]) == 1
    assert capsys.readouterr().err == "paperboy: error: the two passwords differ\n"
    answers = iter([PASSWORD, PASSWORD])
    assert main(["admin", "create-user", "ada@example.org", "ada"]) == 0


def test_a_password_argument_does_not_exist(cli_env, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["admin", "create-user", "ada@example.org", "ada", "--password", PASSWORD])
    assert exited.value.code == 2


def test_set_role(cli_env, stdin, engine, capsys):
    stdin(PASSWORD)
    main(["admin", "create-user", "ada@example.org", "ada"])
    capsys.readouterr()
    assert main(["admin", "set-role", "ada", "moderator"]) == 0
    assert capsys.readouterr().out == "paperboy: ada is now moderator\n"
    assert find_user(engine, "ada").is_moderator
    assert main(["admin", "set-role", "nobody", "admin"]) == 1
    assert capsys.readouterr().err == "paperboy: error: no account is named 'nobody'\n"
    with pytest.raises(SystemExit):
        main(["admin", "set-role", "ada", "king"])


def test_admin_alone_prints_its_help(cli_env, capsys):
    assert main(["admin"]) == 2
    assert "create-user" in capsys.readouterr().out


def test_create_token_prints_a_token_the_api_takes(cli_env, stdin, engine, settings, capsys):
    from app_client import open_client

    stdin(PASSWORD)
    assert main(["admin", "create-user", "ada@example.org", "ada"]) == 0
    capsys.readouterr()
    assert (
        main(["admin", "create-token", "Ada", "--scope", "read", "--scope", "library", "--name", "nightly"])
        == 0
    )
    out, err = capsys.readouterr()
    token = out.strip()
    assert out == token + "\n"
    assert token.startswith("pb_")
    assert err == "paperboy: token 'nightly' (library, read) for ada; shown once\n"
    with open_client(settings) as client:
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200
        assert me.json()["name"] == "ada"
        assert sorted(me.json()["scopes"]) == ["library", "read"]
        saved = client.put("/api/v1/me/library/2506.99999", headers={"Authorization": f"Bearer {token}"})
        assert saved.status_code == 404  # the scope lets it through; the paper is not in the catalogue


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nobody", "--scope", "read"], "no account is named 'nobody'"),
        (["ada", "--scope", "sudo"], "unknown scope 'sudo'"),
        (["mod", "--scope", "read"], "confirm your e-mail address first"),
    ],
)
def test_create_token_mistakes_are_one_line_and_make_nothing(cli_env, stdin, engine, capsys, argv, message):
    stdin(PASSWORD)
    assert main(["admin", "create-user", "ada@example.org", "ada"]) == 0
    stdin(PASSWORD)
    assert main(["admin", "create-user", "mod@example.org", "mod", "--unverified"]) == 0
    capsys.readouterr()
    assert main(["admin", "create-token", *argv]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("paperboy: error: ")
    assert message in err
    assert err.count("\n") == 1
    with engine.connect() as conn:
        assert conn.execute(select(api_tokens.c.id)).first() is None
