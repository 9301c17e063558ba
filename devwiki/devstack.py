"""`make run`: a local real MediaWiki with demo users, and the app on http://127.0.0.1:5000.

With WIKI_API_URL set, that wiki is used instead and no local wiki is started.
SECRET_KEY defaults to a random key kept in instance/secret_key.
"""
from __future__ import annotations

import argparse
import os
import secrets
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def secret_key() -> str:
    """SECRET_KEY from the environment, else one made once and kept in instance/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = ROOT / "instance" / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make run", description=__doc__)
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--wiki-port", type=int, default=8080)
    parser.add_argument("--wiki-dir", default=None,
                        help="default .devwiki (the host's MediaWiki) or .devwiki-mwVERSION")
    parser.add_argument("--mw", metavar="VERSION",
                        help="MediaWiki branch of the local wiki, 1.39 or 1.43 (default: the host's)")
    args = parser.parse_args(argv)

    server = None
    if not os.environ.get("WIKI_API_URL"):
        from devwiki.wikiserver import open_dev_wiki, print_banner

        testidp = (ROOT / "tests" / "mediawiki" / "TestIdP" / "settings.php").exists()
        wiki_dir = args.wiki_dir or str(ROOT / (f".devwiki-mw{args.mw}" if args.mw else ".devwiki"))
        server, reused = open_dev_wiki(Path(wiki_dir), port=args.wiki_port, captcha="badlogin",
                                       oath=True, testidp=testidp, mw_version=args.mw)
        os.environ["WIKI_API_URL"] = server.api_url
        print_banner(server, reused)
    os.environ["SECRET_KEY"] = secret_key()
    os.environ.setdefault("PUBLIC_URL", f"http://127.0.0.1:{args.port}")

    def on_sigterm(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        from app import create_app

        app = create_app()
        on = f" ({server.mw})" if server is not None else ""
        print(f"\nwiki-login for {os.environ['WIKI_API_URL']}{on}\n  open {os.environ['PUBLIC_URL']}\n",
              flush=True)
        app.run(host="127.0.0.1", port=args.port, threaded=True, use_reloader=False)
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl-C or SIGTERM must not cut the wiki's shutdown short.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
