#!/bin/sh
# A pretend gateway for the supervisor's process tests. $1 is what to do; $2 an argument.
#   serve           print READY, stay up; SIGHUP prints RELOADED (an in-place reload)
#   serve-nohup     print READY, stay up; SIGHUP kills it (no handler)
#   crash-unless F  exit 3 with a fatal line unless file F exists, then serve
#   hang            never print READY (readiness fails)
#   ignore-term     ignore SIGTERM (needs SIGKILL)
#   fork F          start a grandchild that ignores SIGTERM and one that leaves the process
#                   group (setsid); their pids go to file F; then serve
#   exit78          exit 78 (EX_CONFIG)
#   flood           write 3000 warning lines to stderr, then serve
#   slow S          wait S seconds, then serve
mode="$1"
idle() { while :; do sleep 1000 & wait $!; done; }
case "$mode" in
  serve) trap 'echo RELOADED' HUP; echo "gateway pid $$ starting"; echo READY; idle ;;
  serve-nohup) echo READY; idle ;;
  crash-unless)
    if [ -f "$2" ]; then echo READY; idle; fi
    echo "booting"; echo "fatal: configuration broken at 2026-11-23T10:00:00Z" >&2; exit 3 ;;
  hang) echo "starting, never ready"; idle ;;
  ignore-term) trap '' TERM; echo READY; idle ;;
  fork)
    sh -c 'trap "" TERM; while :; do sleep 1; done' &
    echo $! >> "$2"
    # the grandchild writes its own pid once setsid has taken effect, so the test never sees it
    # still in our group
    setsid sh -c 'echo $$ >> "$1"; while :; do sleep 1; done' grandchild "$2" &
    echo READY; idle ;;
  exit78) echo "invalid configuration: missing key 'port'" >&2; exit 78 ;;
  flood) i=0; while [ $i -lt 3000 ]; do echo "warn: retry $i" >&2; i=$((i+1)); done; echo READY; idle ;;
  slow) sleep "$2"; echo READY; idle ;;
  *) echo "unknown mode $mode" >&2; exit 2 ;;
esac
