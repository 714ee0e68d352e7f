#!/bin/sh
# TLS for the Kubernetes Redis (k8s/base/redis.yaml): a private CA and a server certificate for the
# `redis` Service, for the luodi-redis-tls Secret that Redis serves and luodi checks it with.
#
#   deploy/k8s/redis-tls.sh ./redis-tls
#   kubectl -n luodi create secret generic luodi-redis-tls \
#     --from-file=./redis-tls/ca.crt --from-file=./redis-tls/tls.crt --from-file=./redis-tls/tls.key
#
# The certificate names redis, redis.luodi, redis.luodi.svc and redis.luodi.svc.cluster.local;
# names after OUT_DIR replace those (another namespace, say). Keep ca.key out of the cluster: it
# signs the next certificate (valid 825 days; the CA 10 years). cert-manager can issue the same
# Secret instead (keys ca.crt, tls.crt, tls.key).
set -eu
out=${1:?usage: redis-tls.sh OUT_DIR [DNS_NAME...]}
shift
[ "$#" -gt 0 ] || set -- redis redis.luodi redis.luodi.svc redis.luodi.svc.cluster.local
mkdir -p "$out"
cd "$out"
umask 077
san=$(printf 'DNS:%s,' "$@")
printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n' "${san%,}" > tls.ext
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
  -subj "/CN=luodi redis CA" -keyout ca.key -out ca.crt 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
  -keyout tls.key -out tls.csr 2>/dev/null
openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 \
  -extfile tls.ext -out tls.crt 2>/dev/null
rm -f tls.csr tls.ext ca.srl
chmod 644 ca.crt tls.crt
echo "wrote $out/ca.crt, tls.crt, tls.key (and ca.key: keep it out of the cluster)"
