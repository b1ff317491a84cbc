# shellcheck shell=bash disable=SC2034,SC2016
# deploy/local/lib/common.sh: shared by the local-stack scripts (services, up, the test harness).
# Source it from bash; it defines the stack layout, ports and small helpers, and runs nothing.
#
# Layout below SENTINEL_STACK_DIR (default <repo>/.stack):
#   postgres/  PostgreSQL data directory (owned by the postgres user)
#   rabbitmq/  RabbitMQ home, config, mnesia
#   redis/     Redis working directory
#   logs/      every log file (postgres.log, rabbitmq.log, rabbitmq-console.log, redis.log, ...)
#   run/       pid files, sockets, lock
#   env        the SENTINEL_* connection variables, written by `services start`

STACK_PROG=${STACK_PROG:-services}

stack_msg() { printf '%s: %s\n' "$STACK_PROG" "$*"; }
stack_err() { printf '%s: %s\n' "$STACK_PROG" "$*" >&2; }
stack_die() { stack_err "$@"; exit 1; }

STACK_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd -P)
STACK_DIR=$(realpath -m -- "${SENTINEL_STACK_DIR:-$STACK_REPO/.stack}")
STACK_LOGS=$STACK_DIR/logs
STACK_RUN=$STACK_DIR/run
STACK_ENV_FILE=$STACK_DIR/env

PG_PORT=${SENTINEL_PG_PORT:-55432}
AMQP_PORT=${SENTINEL_AMQP_PORT:-55672}
AMQP_DIST_PORT=${SENTINEL_AMQP_DIST_PORT:-55673}
EPMD_PORT=${SENTINEL_EPMD_PORT:-55674}
REDIS_PORT=${SENTINEL_REDIS_PORT:-56379}
STACK_TIMEOUT=${SENTINEL_STACK_TIMEOUT:-60}

stack_check_config() {
    local pair env var v seen=" "
    for pair in SENTINEL_PG_PORT=PG_PORT SENTINEL_AMQP_PORT=AMQP_PORT SENTINEL_AMQP_DIST_PORT=AMQP_DIST_PORT \
                SENTINEL_EPMD_PORT=EPMD_PORT SENTINEL_REDIS_PORT=REDIS_PORT; do
        env=${pair%%=*} var=${pair#*=}
        v=${!var}
        if ! [[ $v =~ ^[0-9]{1,5}$ ]] || ((10#$v < 1024 || 10#$v > 65535)); then
            stack_die "$env=$v is not a port number between 1024 and 65535"
        fi
        [[ $seen == *" $v "* ]] && stack_die "$env=$v: the five ports must all differ"
        seen+="$v "
    done
    if ! [[ $STACK_TIMEOUT =~ ^[0-9]{1,5}$ ]] || ((10#$STACK_TIMEOUT < 1)); then
        stack_die "SENTINEL_STACK_TIMEOUT=$STACK_TIMEOUT is not a positive number of seconds"
    fi
    [[ $STACK_DIR == / ]] && stack_die "SENTINEL_STACK_DIR must not be /"
    return 0
}

# The connection variables, one `export NAME=value` line each.
stack_env_lines() {
    printf 'export SENTINEL_DATABASE_URL=postgresql://sentinel@127.0.0.1:%s/sentinel\n' "$PG_PORT"
    printf 'export SENTINEL_AMQP_URL=amqp://guest:guest@127.0.0.1:%s/\n' "$AMQP_PORT"
    printf 'export SENTINEL_REDIS_URL=redis://127.0.0.1:%s/0\n' "$REDIS_PORT"
}

# stack_pid_alive PID [SUBSTRING...]: the process exists, is not a zombie, and its command line
# contains every SUBSTRING (guards against a recycled pid).
stack_pid_alive() {
    local pid=$1 state cmd
    shift
    [[ $pid =~ ^[0-9]+$ ]] && ((pid > 1)) || return 1
    state=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$pid/stat" 2>/dev/null) || return 1
    [[ -n $state && $state != Z && $state != X ]] || return 1
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    local s
    for s in "$@"; do
        [[ $cmd == *"$s"* ]] || return 1
    done
    return 0
}

# stack_pidfile_alive FILE [SUBSTRING...]: prints the pid and succeeds if FILE names a live process.
stack_pidfile_alive() {
    local file=$1 pid
    shift
    [[ -r $file ]] || return 1
    read -r pid <"$file" 2>/dev/null || [[ -n ${pid:-} ]] || return 1
    stack_pid_alive "$pid" "$@" || return 1
    printf '%s\n' "$pid"
}

# stack_wait_gone TIMEOUT PID...: waits until every PID has exited; fails on timeout.
stack_wait_gone() {
    local deadline=$((SECONDS + $1)) pid left
    shift
    while :; do
        left=0
        for pid in "$@"; do stack_pid_alive "$pid" && left=1; done
        ((left)) || return 0
        ((SECONDS >= deadline)) && return 1
        sleep 0.1
    done
}

# stack_port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
stack_port_open() {
    timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}

# stack_elapsed START: seconds since START (an $EPOCHREALTIME value), one decimal.
stack_elapsed() {
    awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'
}
