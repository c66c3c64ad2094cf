#!/usr/bin/env bash
# Submits a scaler sweep to AWS Batch: an array job of SIZE children (one shard each) and the
# merge as a job that depends on the whole array.
#
#   deploy/aws-batch/submit.sh JOB_QUEUE SIZE
#
# First, once: put the scenario at /mnt/efs/scenario.toml and its trace beside it on the EFS
# file system, set fileSystemId and image in the two job definitions, and register them:
#   aws batch register-job-definition --cli-input-json file://deploy/aws-batch/sweep-job-definition.json
#   aws batch register-job-definition --cli-input-json file://deploy/aws-batch/merge-job-definition.json
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 JOB_QUEUE SIZE" >&2; exit 2; }
case "$2" in ''|*[!0-9]*|0|1) echo "$0: SIZE must be a whole number of at least 2 (an AWS Batch array has 2 to 10000 children)" >&2; exit 2 ;; esac
array=$(aws batch submit-job --job-name scaler-sweep --job-queue "$1" --job-definition scaler-sweep \
  --array-properties "size=$2" --parameters "shard=auto/$2" --query jobId --output text)
echo "sweep array: $array ($2 children)"
merge=$(aws batch submit-job --job-name scaler-sweep-merge --job-queue "$1" --job-definition scaler-sweep-merge \
  --depends-on "jobId=$array" --query jobId --output text)
echo "merge: $merge (after every child of $array); the files land in /mnt/efs/sweep/merged"
