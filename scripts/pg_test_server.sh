#!/usr/bin/env bash
# A throwaway PostgreSQL server for the index tests: `start` prints its SQLAlchemy URL, `stop DIR`
# removes it. Uses Debian's postgresql package (installed by scripts/setup.sh when run as root).
# initdb refuses to run as root, so the server runs as the postgres user in a folder it owns.
set -euo pipefail
cmd=${1:-}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
case "$cmd" in
  start)
    [ -n "$bindir" ] || { echo "no PostgreSQL server installed" >&2; exit 1; }
    dir=$(mktemp -d /tmp/royalty-pg.XXXXXX)
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    runas=()
    if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; runas=(runuser -u postgres --); fi
    "${runas[@]}" "$bindir/initdb" -D "$dir/data" --auth=trust -U postgres >"$dir/initdb.log" 2>&1
    "${runas[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null
    "${runas[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres royalty_index_test
    echo "$dir postgresql+psycopg://postgres@127.0.0.1:$port/royalty_index_test"
    ;;
  stop)
    dir=${2:?usage: pg_test_server.sh stop DIR}
    runas=()
    if [ "$(id -u)" = 0 ]; then runas=(runuser -u postgres --); fi
    "${runas[@]}" "$bindir/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) echo "usage: pg_test_server.sh start | stop DIR" >&2; exit 2 ;;
esac
