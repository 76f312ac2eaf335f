# shellcheck shell=bash
# Functions here set globals for their callers.
# shellcheck disable=SC2034
#
# tests/container/lib.sh: podman without a registry, for tests/container/
# run.sh.  Sourced after scripts/lib.sh.

FU_CT_HOME=${FU_CT_HOME:-/var/tmp/fileupload-containers}
CT_BASE_NAMES=(docker.io/library/debian:12 docker.io/library/debian:12-slim)

# The tools, from Debian.
ct_install() {
	fu_install_packages podman buildah runc debootstrap uidmap \
	    podman-compose golang-github-containernetworking-plugin-dnsname \
	    iptables >/dev/null
}

# A private configuration, so that nothing on the host is read or changed:
# storage under FU_CT_HOME; runc (crun refuses a hybrid cgroup layout);
# the open-file and process limits the host allows (podman's defaults,
# above the hard limits, fail with "setrlimit RLIMIT_NOFILE: Operation not
# permitted"); the
# host's network; no registry at all.
ct_configure() {
	local etc=$FU_CT_HOME/etc nofile nproc

	mkdir -p "$etc" "$FU_CT_HOME/storage" "$FU_CT_HOME/run"
	chmod 0700 "$FU_CT_HOME"
	nofile=$(ulimit -Hn)
	nproc=$(ulimit -Hu)
	[ "$nofile" != unlimited ] || nofile=1048576
	# podman lowers its own process limit to 32768 before a build's RUN
	# steps, which then may not raise it.
	[ "$nproc" != unlimited ] && [ "$nproc" -le 32768 ] || nproc=32768
	cat >"$etc/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
netns = "host"
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
	cat >"$etc/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$FU_CT_HOME/storage"
runroot = "$FU_CT_HOME/run"
EOF
	cat >"$etc/registries.conf" <<EOF
unqualified-search-registries = []
short-name-mode = "disabled"
EOF
	cat >"$etc/policy.json" <<EOF
{"default": [{"type": "reject"}],
 "transports": {"docker-archive": {"": [{"type": "insecureAcceptAnything"}]},
  "tarball": {"": [{"type": "insecureAcceptAnything"}]}}}
EOF
	export CONTAINERS_CONF=$etc/containers.conf
	export CONTAINERS_STORAGE_CONF=$etc/storage.conf
	export CONTAINERS_REGISTRIES_CONF=$etc/registries.conf
	export REGISTRIES_CONFIG_PATH=$etc/registries.conf
	CT_POLICY=$etc/policy.json
}

# The apt source this machine uses (its first "deb" URI).
ct_apt_mirror() {
	local uri

	uri=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/*.sources \
	    2>/dev/null || true)
	[ -n "$uri" ] || uri=$(awk '$1 == "deb" { print $2; exit }' \
	    /etc/apt/sources.list 2>/dev/null || true)
	[ -n "$uri" ] || fu_die "no apt source found in /etc/apt"
	printf '%s\n' "$uri"
}

# The Dockerfile's FROM images, made here once (debootstrap, about 45 s)
# and kept in FU_CT_HOME's storage.
ct_base_image() {
	local root=$FU_CT_HOME/rootfs name t0=$SECONDS

	# Build stages of earlier runs, once they are old: the disk stays
	# bounded, and a day's runs reuse their cache.
	podman image prune -f --filter until=72h >/dev/null 2>&1 || true
	if podman image exists "${CT_BASE_NAMES[0]}" &&
	    podman image exists "${CT_BASE_NAMES[1]}"; then
		return 0
	fi
	fu_log "making the base image (debootstrap --variant=minbase bookworm)"
	rm -rf "$root"
	debootstrap --variant=minbase bookworm "$root" "$(ct_apt_mirror)" \
	    >"$FU_CT_HOME/debootstrap.log" 2>&1 ||
	    { tail -n 20 "$FU_CT_HOME/debootstrap.log"; fu_die "debootstrap failed"; }
	rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*
	for name in "${CT_BASE_NAMES[@]}"; do
		tar -C "$root" -c . | podman import \
		    --change 'CMD ["/bin/bash"]' - "$name" >/dev/null
	done
	rm -rf "$root"
	fu_log "base image ready in $((SECONDS - t0)) s"
}

# ct_npm_ca: the CA bundle npm trusts on this machine (FU_NPM_CA, npm's
# cafile, NODE_EXTRA_CA_CERTS), if any: behind a TLS-intercepting proxy the
# image's "npm ci" needs it, as the npm_ca build secret.
ct_npm_ca() {
	local f

	for f in "${FU_NPM_CA:-}" "$(npm config get cafile 2>/dev/null || true)" \
	    "${NODE_EXTRA_CA_CERTS:-}"; do
		if [ -n "$f" ] && [ "$f" != null ] && [ -r "$f" ]; then
			printf '%s\n' "$f"
			return 0
		fi
	done
}

# ct_secret_args: the build's --secret option for ct_npm_ca's bundle, if
# any (one argument a line).
ct_secret_args() {
	local ca
	ca=$(ct_npm_ca)
	[ -z "$ca" ] || printf '%s\n' --secret "id=npm_ca,src=$ca"
}

# ct_revision: the commit the image is built from.
ct_revision() {
	git -c safe.directory='*' -C "$FU_ROOT" rev-parse HEAD 2>/dev/null ||
	    echo unknown
}

# ct_build IMAGE: docker/Dockerfile from the repository root, with the
# commit and the repository's path as its OCI labels.
ct_build() {
	local -a secret
	mapfile -t secret < <(ct_secret_args)
	podman build --format docker --isolation chroot --network host \
	    --signature-policy "$CT_POLICY" --pull=never --layers \
	    "${secret[@]}" --build-arg REVISION="$(ct_revision)" \
	    --build-arg SOURCE="file://$FU_ROOT" \
	    -f "$FU_ROOT/docker/Dockerfile" -t "$1" "$FU_ROOT"
}

ct_image_size() {
	podman image inspect -f '{{.Size}}' "$1" |
	    awk '{ printf "%.0f MB", $1 / 1000000 }'
}

# The capabilities the image needs when a container is run with
# --cap-drop ALL, as the README documents them (its "--cap-add" line).
# One argument a line.
ct_cap_args() {
	grep -o -- '--cap-add [A-Z_]*' "$FU_ROOT/README.md" | sort -u |
	    sed 's/ /\n/'
}
