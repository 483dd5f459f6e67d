# The same image as image/build.sh's, for those who have a Docker engine. image/build.sh is the
# supported build (daemonless, tested by tests/install/image.sh); this file only repackages the
# root filesystem that image/build.sh stages, so the two cannot drift. Not built by this
# project's CI (no Docker engine there):
#   image/build.sh && docker build -f Dockerfile -t <your registry>/unsealer:0.1.0 target/image/rootfs
# rootfs: /usr/local/bin/unsealer (static, stripped) and its hard link /usr/local/bin/controller,
# /etc/passwd and /etc/group naming uid 1001, /tmp. Nothing else: no shell.
FROM scratch
COPY . /
ENV PATH=/usr/local/bin
USER 1001:65534
EXPOSE 8080 8081
ENTRYPOINT ["controller"]
