#!/bin/sh
# Waits for Temporal, creates the namespace with a retention long enough for
# post-mortems, registers sitrep's search attributes (keep the list in step
# with workflows.SearchAttributes) and waits until an incident can use them:
# every Temporal service refreshes its namespace cache on its own clock
# (about every 10 s), and an incident that opens before its history service
# knows the attributes fails with "no mapping defined for search attribute".
# Exits non-zero when any step fails for good; nothing is hidden.
set -eu
: "${NAMESPACE:=default}" "${RETENTION:=720h}" "${SETUP_TRIES:=90}"

# retry CMD...: runs CMD every 2 s until it succeeds, SETUP_TRIES times at most;
# the last failure's output is shown.
retry() {
  n=0
  until "$@" >/dev/null 2>&1; do
    n=$((n + 1))
    if [ "$n" -ge "$SETUP_TRIES" ]; then
      echo "gave up after $n tries: $*" >&2
      "$@" >&2 || true # once more, for its message
      return 1
    fi
    sleep 2
  done
}

namespace_known() { temporal operator namespace describe --namespace "$NAMESPACE"; }

# registered NAME TYPE: the namespace lists NAME with TYPE.
registered() {
  temporal operator search-attribute list --namespace "$NAMESPACE" | grep -Eq "^[[:space:]]*$1[[:space:]]+$2[[:space:]]*$"
}

# create_sa NAME TYPE: registers NAME; a failed create is a failure unless
# NAME is then listed with TYPE (it was there already).
create_sa() {
  temporal operator search-attribute create --namespace "$NAMESPACE" --name "$1" --type "$2" || registered "$1" "$2"
}

# probe starts and terminates a workflow that sets every attribute: it works
# once the frontend and the history service both map them.
probe() {
  id="sitrep-setup-probe-$$"
  temporal workflow start --namespace "$NAMESPACE" --task-queue sitrep-setup-probe --type SetupProbe \
    --workflow-id "$id" --id-reuse-policy AllowDuplicate \
    --search-attribute 'SitrepService="probe"' --search-attribute 'SitrepSeverity="probe"' \
    --search-attribute 'SitrepPhase="probe"' --search-attribute 'SitrepSource="probe"' \
    --search-attribute 'SitrepTeam="probe"' --search-attribute 'SitrepPaged=["probe"]' \
    --search-attribute 'SitrepNextUpdate="2026-01-01T00:00:00Z"' --search-attribute 'SitrepRoom="probe"' \
    --search-attribute 'SitrepPostPhase="probe"' --search-attribute 'SitrepPostmortemDue="2026-01-01T00:00:00Z"' || return 1
  temporal workflow terminate --namespace "$NAMESPACE" --workflow-id "$id" --reason "sitrep setup probe"
}

retry temporal operator cluster health
if ! namespace_known >/dev/null 2>&1; then
  # Another setup job may create it at the same moment: then it is known below.
  temporal operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION" || true
fi
retry namespace_known
for sa in SitrepService SitrepSeverity SitrepPhase SitrepSource SitrepTeam SitrepRoom SitrepPostPhase; do
  retry create_sa "$sa" Keyword
  echo "search attribute $sa registered"
done
retry create_sa SitrepPaged KeywordList
echo "search attribute SitrepPaged registered"
retry create_sa SitrepNextUpdate Datetime
echo "search attribute SitrepNextUpdate registered"
retry create_sa SitrepPostmortemDue Datetime
echo "search attribute SitrepPostmortemDue registered"
retry probe
echo "namespace $NAMESPACE ready: search attributes usable"
