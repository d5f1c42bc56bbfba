#!/bin/sh
# Like supervisord in the real image: a parent in front of the server, so killing the
# server crashes the container (PID 1 itself cannot be killed from inside), and
# SIGTERM from `docker stop` reaches the server at once.
python3 /opt/standin/server.py &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT
wait "$child"
