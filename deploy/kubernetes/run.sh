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
kubectl apply -f "$here/volume.yaml"
kubectl run scaler-sweep-copy --image=busybox --restart=Never \
  --overrides='{"spec":{"volumes":[{"name":"data","persistentVolumeClaim":{"claimName":"scaler-sweep-data"}}],"containers":[{"name":"c","image":"busybox","command":["sleep","3600"],"volumeMounts":[{"name":"data","mountPath":"/data"}]}]}}'
kubectl wait --for=condition=Ready pod/scaler-sweep-copy --timeout=5m
kubectl cp "$1" scaler-sweep-copy:/data/scenario.toml
kubectl cp "$2" "scaler-sweep-copy:/data/$(basename "$2")"
kubectl apply -f "$here/sweep.yaml"
kubectl wait --for=condition=complete job/scaler-sweep --timeout=24h
kubectl apply -f "$here/merge-job.yaml"
kubectl wait --for=condition=complete job/scaler-sweep-merge --timeout=1h
kubectl cp scaler-sweep-copy:/data/sweep/merged "$3"
kubectl delete pod scaler-sweep-copy --wait=false
echo "merged files in $3"
