#!/usr/bin/env bash
# Record-layer throughput against OpenSSL's own AES-128-GCM, measured in the same run.
# Ours: ALTSRP_GCM_AES128_REKEY seal and open, one frame per call, framing and key derivation
# included. Reference: `openssl speed -evp aes-128-gcm` (encrypt) and with -decrypt, 16 KiB blocks.
# Last line: ratios: seal_16k=R open_16k=R (ours / OpenSSL; higher is better).
source "$(dirname "$0")/common.sh"
SECONDS_EACH=${SECONDS_EACH:-3}

bin=$(release_bin_path alts-bench)
ref_enc=$(openssl_speed aes-128-gcm 16384 "$SECONDS_EACH")
ref_dec=$(openssl_speed aes-128-gcm 16384 "$SECONDS_EACH" -decrypt)
read -r seal16 open16 < <("$bin/alts-bench" record --plaintext-bytes 16384 --seconds "$SECONDS_EACH" \
    | sed -E 's/.*seal_MBps=([0-9]+) open_MBps=([0-9]+).*/\1 \2/')
read -r seal1m open1m < <("$bin/alts-bench" record --plaintext-bytes 1048552 --seconds "$SECONDS_EACH" \
    | sed -E 's/.*seal_MBps=([0-9]+) open_MBps=([0-9]+).*/\1 \2/')
ref_enc_mb=$(mbps "$ref_enc"); ref_dec_mb=$(mbps "$ref_dec")

echo "machine: $(nproc) cores, $(openssl version | cut -d' ' -f1-2), $(swift --version 2>&1 | head -1 | sed 's/ (.*//')"
printf '%-44s %10s %8s\n' "measurement" "MB/s" "ratio"
printf '%-44s %10s %8s\n' "openssl speed aes-128-gcm encrypt, 16 KiB" "$ref_enc_mb" "1.00"
printf '%-44s %10s %8s\n' "openssl speed aes-128-gcm decrypt, 16 KiB" "$ref_dec_mb" "1.00"
printf '%-44s %10s %8s\n' "ALTS REKEY seal, 16 KiB frames" "$seal16" "$(ratio "$seal16" "$ref_enc_mb")"
printf '%-44s %10s %8s\n' "ALTS REKEY open, 16 KiB frames" "$open16" "$(ratio "$open16" "$ref_dec_mb")"
printf '%-44s %10s %8s\n' "ALTS REKEY seal, 1 MiB frames" "$seal1m" "$(ratio "$seal1m" "$ref_enc_mb")"
printf '%-44s %10s %8s\n' "ALTS REKEY open, 1 MiB frames" "$open1m" "$(ratio "$open1m" "$ref_dec_mb")"
echo "ratios: seal_16k=$(ratio "$seal16" "$ref_enc_mb") open_16k=$(ratio "$open16" "$ref_dec_mb")"
