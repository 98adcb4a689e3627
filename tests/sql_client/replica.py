"""An embedded replica with the Python libSQL client (PyPI `libsql`), for
tests/emulator/replicas.rs.

    python replica.py <file> <url> <token> <sql> [<sql> ...]

Opens `libsql.connect(<file>, sync_url=<url>, auth_token=<token>)`, calls sync() (the first
one downloads the database), runs each statement (reads are local; writes go to <url>) and
commits, then sync() again. Prints {"results": [<rows of each statement>]} on stdout and
exits 0; on failure prints "ERROR <type>: <message>" on stderr and exits 1.
"""

import json
import sys

import libsql


def main() -> int:
    if len(sys.argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    path, url, token, *sqls = sys.argv[1:]
    try:
        conn = libsql.connect(path, sync_url=url, auth_token=token)
        conn.sync()
        results = []
        for sql in sqls:
            cursor = conn.execute(sql)
            results.append([list(row) for row in cursor.fetchall() or []])
        conn.commit()
        conn.sync()
        conn.close()
    except Exception as e:  # noqa: BLE001 - the test reads the message
        print(f"ERROR {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(json.dumps({"results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
