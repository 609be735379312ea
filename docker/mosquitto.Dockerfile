# SPDX-License-Identifier: MIT
# The compose demo's MQTT broker: Debian's mosquitto on debian:bookworm-slim
# (the same base as the ocppgw image, so no other registry image is needed).
#   docker build --network=host -f docker/mosquitto.Dockerfile -t ocppgw-mosquitto docker
# Without a configuration file mosquitto 2 listens on the loopback addresses
# only and lets anyone in: right for the demo (host network, one machine),
# wrong for a broker other machines use.
FROM debian:bookworm-slim
RUN printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-exclude /usr/share/man/*' \
      'path-exclude /usr/share/locale/*' 'path-exclude /usr/share/lintian/*' \
      >/etc/dpkg/dpkg.cfg.d/nodoc \
 && apt-get update \
 && apt-get install -y --no-install-recommends mosquitto \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log
USER mosquitto
EXPOSE 1883
ENTRYPOINT ["mosquitto"]
CMD ["-p", "1883"]
