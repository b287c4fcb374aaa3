#!/bin/sh
# Waits for Temporal, creates the namespace with a retention long enough for
# post-mortems, and registers sitrep's search attributes (keep this list in
# step with workflows.SearchAttributes).
set -eu
tries=0
until temporal operator cluster health >/dev/null 2>&1; do
  tries=$((tries + 1))
  [ "$tries" -ge 60 ] && { echo "temporal not healthy after 60 tries" >&2; exit 1; }
  sleep 2
done
temporal operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1 \
  || temporal operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION"
for sa in SitrepService SitrepSeverity SitrepPhase SitrepSource SitrepTeam; do
  temporal operator search-attribute create --namespace "$NAMESPACE" --name "$sa" --type Keyword \
    || echo "search attribute $sa exists"
done
temporal operator search-attribute create --namespace "$NAMESPACE" --name SitrepPaged --type KeywordList \
  || echo "search attribute SitrepPaged exists"
echo "namespace $NAMESPACE ready"
