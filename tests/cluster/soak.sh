#!/usr/bin/env bash
#
# tests/cluster/soak.sh: a fault soak on the three hosts of
# tests/cluster/hosts.sh.  Not part of scripts/test (it runs for half an
# hour); run as root:
#
#	SOAK_SECONDS=1800 SOAK_STORE=s3 tests/cluster/soak.sh
#
# Mixed traffic the whole time: three clients uploading (multipart,
# 1 KB to 1 MB), one resumable client (1 to 3 MiB in 1 MiB PATCHes,
# resuming from the server's offset after a failure, as tus clients do),
# one reading back what was acknowledged, one deleting some of it.
# Every SOAK_GAP (45) to SOAK_GAP + 15 s a fault, held 10 to 20 s then
# repaired, drawn at random from:
#
#	kill	one host's workers killed (restarted at the repair)
#	freeze	one host's workers stopped (SIGSTOP; SIGCONT)
#	link	one host's link down (up)
#	dbstop	PostgreSQL stopped (fast shutdown; started)
#	dbcut	PostgreSQL's packets from and to the hosts dropped (iptables)
#	store	SOAK_STORE=s3: the object store stopped (SIGSTOP of radosgw)
#	disk	SOAK_STORE=local: the shared DATA_DIR (an 8 GiB ext4 of
#		its own, as a file system every host mounts) filled to
#		below the workers' FILEUPLOAD_MIN_FREE (256 MiB)
#
# Afterwards: every multipart upload was answered 201, or a JSON 503 or
# 507 and left no row without its bytes; every acknowledged upload (201,
# or the resumable upload's completing 204) that was not deleted reads
# back byte for byte, and every acknowledged DELETE left a 404; no read
# returned other bytes; fsck finds nothing wrong.  The figures (requests,
# faults, failures and recovery per fault kind) are printed and kept in
# SOAK_REPORT (default /tmp/fileupload-soak-STORE.txt).
#
# Sourced by hosts.sh (CL_SOAK set) for the scenario "soak".
# shellcheck disable=SC2034  # globals for the sourcing runner
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case ${SOAK_STORE:-s3} in
	s3 | local) ;;
	*) echo "SOAK_STORE=$SOAK_STORE: s3 or local" >&2; exit 2 ;;
	esac
	CL_SOAK=${SOAK_STORE:-s3} exec "$(dirname "$0")/hosts.sh" soak
fi

SOAK_SECONDS=${SOAK_SECONDS:-1800}
SOAK_GAP=${SOAK_GAP:-45}
SOAK_REPORT=${SOAK_REPORT:-/tmp/fileupload-soak-$CL_SOAK.txt}

# soak_setup_store: the store of the soak, before the hosts start.
soak_setup_store() {
	if [ "$CL_SOAK" = s3 ]; then
		cl_store_setup "$FU_VAR/data" "$CL_FRONT_ADDR"
		return
	fi
	FU_DATA_DIR=$FU_VAR/data
	IT_DATA_DIR=$FU_DATA_DIR
	mkdir -p "$FU_DATA_DIR"
	# A file system of its own that can fill up: 8 GiB, sparse.
	truncate -s 8G "$FU_VAR/data.img"
	mkfs.ext4 -q -F "$FU_VAR/data.img"
	mount -o loop "$FU_VAR/data.img" "$FU_DATA_DIR"
	CL_SOAK_MOUNT=$FU_DATA_DIR
	export STORAGE=local FILEUPLOAD_MIN_FREE=268435456
}

# shellcheck disable=SC2317  # called by cl_teardown
soak_teardown() {
	iptables -D INPUT -i "$CL_BRIDGE" -p tcp --dport "$FU_PG_PORT" -j DROP 2>/dev/null || true
	iptables -D OUTPUT -o "$CL_BRIDGE" -p tcp --sport "$FU_PG_PORT" -j DROP 2>/dev/null || true
	[ -z "${CL_SOAK_MOUNT:-}" ] || umount "$CL_SOAK_MOUNT" 2>/dev/null ||
	    umount -l "$CL_SOAK_MOUNT" 2>/dev/null || true
}

# ----------------------------------------------------------------- traffic

# soak_tus N: resumable uploads one after the other; each line of
# $IT_TMP/tus.N: START_MS END_MS STATUS HASH FILE, STATUS 201 once the
# completing PATCH named the file's hash, else the last status seen.
soak_tus() {
	local n=$1 i=0 f p size loc off st tries t0 h
	local -a tus=(-H "Tus-Resumable: 1.0.0")

	while [ ! -e "$IT_TMP/stop" ]; do
		i=$((i + 1))
		f=$IT_TMP/files/t$n.$i
		p=$f.part
		{ printf '\001\002\003\004'; head -c $(((RANDOM % 3 + 1) << 20)) /dev/urandom; } >"$f"
		size=$(stat -c %s "$f")
		h=$(b2 "$f")
		t0=$(cl_ms)
		loc=$(curl -sS -o /dev/null -D - --max-time 30 "${tus[@]}" \
		    -H "Upload-Length: $size" -X POST "$IT_URL/service/fileupload/uploads" \
		    2>/dev/null | tr -d '\r' | sed -n 's/^[Ll]ocation: //p') || true
		if [ -z "$loc" ]; then
			printf '%s %s 000 %s %s\n' "$t0" "$(cl_ms)" "$h" "$f" >>"$IT_TMP/tus.$n"
			sleep 1
			continue
		fi
		off=0 st=000 tries=0
		while [ "$off" -lt "$size" ] && [ "$tries" -lt 20 ]; do
			dd if="$f" of="$p" iflag=skip_bytes,count_bytes skip="$off" \
			    count=$((1 << 20)) status=none
			st=$(curl -sS -o /dev/null -D "$p.h" -w '%{http_code}' \
			    --max-time 60 "${tus[@]}" -X PATCH \
			    -H "Content-Type: application/offset+octet-stream" \
			    -H "Upload-Offset: $off" --data-binary "@$p" \
			    "$IT_URL$loc" 2>/dev/null) || true
			if [ "$st" = 204 ]; then
				off=$((off + $(stat -c %s "$p")))
				continue
			fi
			# Where the server is: a client's resume.
			tries=$((tries + 1))
			sleep 1
			off=$(curl -sS -o /dev/null -D - --max-time 30 "${tus[@]}" -I \
			    "$IT_URL$loc" 2>/dev/null | tr -d '\r' |
			    sed -n 's/^[Uu]pload-[Oo]ffset: //p') || true
			[[ $off =~ ^[0-9]+$ ]] || off=0
		done
		if [ "$st" = 204 ] && grep -qi "^file-hash: $h" "$p.h"; then
			st=201
		fi
		printf '%s %s %s %s %s\n' "$t0" "$(cl_ms)" "$st" "$h" "$f" >>"$IT_TMP/tus.$n"
	done
}

# soak_acked: hash and file of every acknowledged upload so far that the
# deleter never touches (clients 1 and 2, the resumable client).
soak_acked() {
	# Whole lines only: a client may be writing its last one.
	cat "$IT_TMP/client.1" "$IT_TMP/client.2" "$IT_TMP"/tus.* 2>/dev/null |
	    awk 'NF == 5 && $3 == 201 && length($4) == 64 && $4 !~ /[^0-9a-f]/ {
	        print $4, $5 }'
}

# soak_reader: reads back acknowledged uploads at random; a line of
# $IT_TMP/reads per read: MS STATUS HASH same|differs.
soak_reader() {
	local h f st r

	while [ ! -e "$IT_TMP/stop" ]; do
		read -r h f < <(soak_acked | shuf -n 1) || true
		if [ -n "${h:-}" ] && [ -f "${f:-}" ]; then
			st=$(curl -sS -o "$IT_TMP/read.body" -w '%{http_code}' --max-time 60 \
			    "$IT_URL/service/fileupload/$h/content" 2>/dev/null) || true
			r=-
			[ "$st" != 200 ] || { cmp -s "$IT_TMP/read.body" "$f" && r=same || r=differs; }
			printf '%s %s %s %s\n' "$(cl_ms)" "${st:-000}" "$h" "$r" >>"$IT_TMP/reads"
		fi
		sleep 0.3
	done
}

# soak_deleter: deletes client 3's acknowledged uploads at random; a line
# of $IT_TMP/deletes per DELETE: MS STATUS HASH.
soak_deleter() {
	local h st

	while [ ! -e "$IT_TMP/stop" ]; do
		sleep 0.5
		h=$(awk 'NF == 5 && $3 == 201 && length($4) == 64 &&
		    $4 !~ /[^0-9a-f]/ { print $4 }' \
		    "$IT_TMP/client.3" 2>/dev/null |
		    grep -vxFf <(awk '{ print $3 }' "$IT_TMP/deletes" 2>/dev/null) |
		    shuf -n 1) || true
		[ -n "$h" ] || continue
		st=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 60 -X DELETE \
		    "$IT_URL/service/fileupload/$h" 2>/dev/null) || true
		printf '%s %s %s\n' "$(cl_ms)" "${st:-000}" "$h" >>"$IT_TMP/deletes"
	done
}

# ------------------------------------------------------------------ faults

soak_pg_cut() {
	iptables "$1" INPUT -i "$CL_BRIDGE" -p tcp --dport "$FU_PG_PORT" -j DROP
	iptables "$1" OUTPUT -o "$CL_BRIDGE" -p tcp --sport "$FU_PG_PORT" -j DROP
}

# soak_fault KIND on|off: applies or repairs a fault (the host ones on
# host CL_VICTIM).
soak_fault() {
	local rgw free

	case $1.$2 in
	kill.on) kill_host ;;
	kill.off) restart_host ;;
	freeze.on) freeze_host ;;
	freeze.off) thaw_host ;;
	link.on) cut_link ;;
	link.off) mend_link ;;
	dbstop.on) fu_pg_stop "$FU_VAR/postgres" >/dev/null 2>&1 ;;
	dbstop.off)
		FU_PG_LISTEN=127.0.0.1,$CL_FRONT_ADDR FU_PG_FSYNC=off \
		    fu_pg_start "$FU_VAR/postgres" "$FU_PG_PORT" >/dev/null 2>&1
		;;
	dbcut.on) soak_pg_cut -I ;;
	dbcut.off) soak_pg_cut -D ;;
	store.on | store.off)
		rgw=$(fu_rgw_pid "$FU_VAR/rgw" client.rgw.a)
		if [ "$2" = on ]; then kill -STOP "$rgw"; else kill -CONT "$rgw"; fi
		;;
	disk.on)
		free=$(df -B1 --output=avail "$FU_DATA_DIR" | tail -n 1)
		fallocate -l $((free - (200 << 20))) "$FU_DATA_DIR/soak-filler"
		;;
	disk.off) rm -f "$FU_DATA_DIR/soak-filler" ;;
	esac
}

# soak_counts FILE FIELD: "N×VALUE ..." of FIELD in FILE.
soak_counts() {
	awk -v f="$2" '{ print $f }' "$1" | sort | uniq -c |
	    awk '{ printf "%s%s×%s", s, $1, $2; s = " " }'
}

# soak_report: per fault kind, from $IT_TMP/faults (KIND HOST ON_MS
# OFF_MS) and the multipart uploads: those that failed (each belongs to
# the last fault that began before it ended), the longest any took to
# be answered, and when the last of them started, after the fault and
# after the repair.
soak_report() {
	{
		printf 'soak: %s s, store %s, %s faults, ended %s\n' "$SOAK_SECONDS" \
		    "$CL_SOAK" "$(wc -l <"$IT_TMP/faults")" "$(date -u +%FT%TZ)"
		printf 'uploads (multipart): %s\n' "$(cl_statuses)"
		printf 'resumable uploads: %s\n' "$(cat "$IT_TMP"/tus.* | soak_counts - 3)"
		printf 'reads: %s\n' "$(awk '{ print $2 "/" $4 }' "$IT_TMP/reads" | soak_counts - 1)"
		printf 'deletes: %s\n' "$(soak_counts "$IT_TMP/deletes" 2)"
		printf '%-7s %6s %14s %18s %22s %22s\n' fault times "failed uploads" \
		    "slowest failure" "last failure after it" "last after the repair"
		awk '
		    FNR == NR { kind[++n] = $1; on[n] = $3; off[n] = $4; next }
		    { st[++r] = $1; en[r] = $2; ok[r] = ($3 == 201) }
		    END {
			for (i = 1; i <= n; i++) {
				k = kind[i]
				if (!(k in times)) order[++m] = k
				times[k]++
			}
			# A failure belongs to the last fault that began before
			# it ended.
			for (q = 1; q <= r; q++) {
				if (ok[q]) continue
				i = 0
				for (j = 1; j <= n; j++)
					if (on[j] <= en[q]) i = j
				if (i == 0) continue
				k = kind[i]
				fails[k]++
				if (st[q] - on[i] > ma[k]) ma[k] = st[q] - on[i]
				if (st[q] - off[i] > mb[k]) mb[k] = st[q] - off[i]
				if (en[q] - st[q] > mx[k]) mx[k] = en[q] - st[q]
			}
			for (j = 1; j <= m; j++) {
				k = order[j]
				printf "%-7s %6d %14d %16.1f s %20.1f s %20.1f s\n", k,
				    times[k], fails[k], mx[k] / 1000, ma[k] / 1000,
				    mb[k] / 1000
			}
		    }' "$IT_TMP/faults" "$IT_TMP/requests"
	} | tee "$SOAK_REPORT" | while read -r line; do cl_note "$line"; done
}

# ---------------------------------------------------------------- scenario

sc_soak() {
	local end pids=() pid kind on h f st
	local -a kinds=(kill freeze link dbstop dbcut)

	if [ "$CL_SOAK" = s3 ]; then kinds+=(store); else kinds+=(disk); fi
	cl_traffic_start 3 1000 1000000 --limit-rate 8M
	soak_tus 1 &
	pids+=($!)
	soak_reader &
	pids+=($!)
	soak_deleter &
	pids+=($!)
	: >"$IT_TMP/faults"
	: >"$IT_TMP/reads"
	: >"$IT_TMP/deletes"
	end=$((SECONDS + SOAK_SECONDS))
	while [ "$SECONDS" -lt "$end" ]; do
		sleep $((SOAK_GAP + RANDOM % 16))
		[ "$SECONDS" -lt "$end" ] || break
		kind=$(shuf -n 1 -e "${kinds[@]}")
		CL_VICTIM=$((RANDOM % CL_HOSTS + 1))
		on=$(cl_ms)
		soak_fault "$kind" on
		sleep $((10 + RANDOM % 11))
		soak_fault "$kind" off
		printf '%s %s %s %s\n' "$kind" "$CL_VICTIM" "$on" "$(cl_ms)" >>"$IT_TMP/faults"
		fu_log "fault $kind (host $CL_VICTIM) for $(($(cl_ms) - on)) ms" >>"$IT_TMP/setup.log" 2>&1
	done
	CL_VICTIM=
	cl_traffic_stop
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	# Let the last repair settle (a host given back, the pool reconnected).
	sleep 5
	soak_report

	awk '$4 == "differs"' "$IT_TMP/reads" | grep -q . &&
	    fail "reads returned other bytes: $(awk '$4 == "differs"' "$IT_TMP/reads" | head -3 | tr '\n' '|')"
	# Deleted and acknowledged: gone; the rest as any upload.
	awk '$2 == 201 { print $3 }' "$IT_TMP/deletes" | sort -u >"$IT_TMP/deleted"
	while read -r h; do
		req GET "/service/fileupload/$h"
		[ "$STATUS" = 404 ] || fail "deleted $h (201) answers $STATUS"
	done <"$IT_TMP/deleted"
	awk 'FNR == NR { d[$1] = 1; next } !($4 in d)' "$IT_TMP/deleted" \
	    "$IT_TMP/requests" >"$IT_TMP/requests.kept"
	mv "$IT_TMP/requests.kept" "$IT_TMP/requests"
	cl_check_requests '201|503|507'
	while read -r _ _ st h f; do
		[ "$st" = 201 ] && cl_check_readable "$h" "$f" "resumable"
	done < <(cat "$IT_TMP"/tus.*)
	cl_check_fsck
}
