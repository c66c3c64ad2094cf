#!/usr/bin/env bash
# Runs a scaler sweep on Kubernetes: the volume of volume.yaml, the Indexed Job of sweep.yaml, then the
# merge of merge-job.yaml once every index completed, then copies the merged files out.
#
#   deploy/kubernetes/run.sh SCENARIO TRACE LOCAL_OUT
#
# Copies SCENARIO to /data/scenario.toml and TRACE to /data/<its file name> on the volume
# (through a short-lived pod), so the scenario's trace.path must be that file name. Needs
# kubectl with rights to create Jobs, Pods and PersistentVolumeClaims in the namespace.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -eq 3 ] || { echo "usage: $0 SCENARIO TRACE LOCAL_OUT" >&2; exit 2; }
# Waits until Job $1 is Complete (returns 0) or Failed (returns 1), for at most $2 seconds.
wait_job() {
  for _ in $(seq "$2"); do
    state=$(kubectl get job "$1" -o jsonpath='{range .status.conditions[?(@.status=="True")]}{.type} {end}')
    case "$state" in
      *Complete*) return 0 ;;
      *Failed*) echo "$0: job $1 failed: kubectl describe job $1" >&2; return 1 ;;
    esac
    sleep 1
  done
  echo "$0: job $1 did not end within $2 s" >&2
  return 1
}
kubectl apply -f "$here/volume.yaml"
# A new run starts clean: earlier Jobs and the copy pod go; the old shards go below.
kubectl delete job scaler-sweep scaler-sweep-merge --ignore-not-found --wait=true
kubectl delete pod scaler-sweep-copy --ignore-not-found --wait=true
kubectl run scaler-sweep-copy --image=busybox --restart=Never \
  --overrides='{"spec":{"volumes":[{"name":"data","persistentVolumeClaim":{"claimName":"scaler-sweep-data"}}],"containers":[{"name":"c","image":"busybox","command":["sleep","3600"],"volumeMounts":[{"name":"data","mountPath":"/data"}]}]}}'
kubectl wait --for=condition=Ready pod/scaler-sweep-copy --timeout=5m
kubectl exec scaler-sweep-copy -- rm -rf /data/sweep
kubectl cp "$1" scaler-sweep-copy:/data/scenario.toml
kubectl cp "$2" "scaler-sweep-copy:/data/$(basename "$2")"
kubectl apply -f "$here/sweep.yaml"
wait_job scaler-sweep 86400
kubectl apply -f "$here/merge-job.yaml"
wait_job scaler-sweep-merge 3600
kubectl cp scaler-sweep-copy:/data/sweep/merged "$3"
kubectl delete pod scaler-sweep-copy --wait=false
echo "merged files in $3"
