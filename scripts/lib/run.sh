# shellcheck shell=bash
# Sourced by the scripts that drive a cluster (kind-experiment, cluster-lag, cluster-lab):
# running a command for real or, with DRY_RUN=1, printing it shell-quoted.

# Runs a command, or prints it (shell-quoted) with DRY_RUN=1.
run() {
  if [ "${DRY_RUN:-0}" = 1 ]; then
    printf '+'
    printf ' %q' "$@"
    printf '\n'
  else
    "$@"
  fi
}

# Runs a command that reads standard input: with DRY_RUN=1, prints the command and the input.
run_with_input() {
  if [ "${DRY_RUN:-0}" = 1 ]; then
    printf '+'
    printf ' %q' "$@"
    printf ' <<EOF\n'
    cat
    printf 'EOF\n'
  else
    "$@"
  fi
}

say() { printf '== %s\n' "$*"; }

# A YAML flow sequence of strings, each double-quoted.
yaml_list() {
  local first=1 item
  printf '['
  for item in "$@"; do
    [ "$first" = 1 ] || printf ', '
    first=0
    item=${item//\\/\\\\}
    printf '"%s"' "${item//\"/\\\"}"
  done
  printf ']'
}

# The lab image by the registry and tag k8s/kustomization.yaml gives the apps (`images:`,
# which scripts/use-registry sets), with the lab's image name.
lab_image() {
  local consumer
  consumer=$(awk '/- name: kafka-consumer$/ { found = 1; next }
                  found && /newName:/ { name = $2 }
                  found && /newTag:/ { print name ":" $2; exit }' k8s/kustomization.yaml)
  printf '%s' "${consumer%/*}/keda-kafka-lab:${consumer##*:}"
}

# The name k8s/ renders an app's image under (`images:` in k8s/kustomization.yaml: the
# released registry, or the one scripts/use-registry set).
app_image_name() {
  awk -v app="$1" '$0 ~ "- name: " app "$" { found = 1; next }
                   found && /newName:/ { print $2; exit }' k8s/kustomization.yaml
}
