# A small static image of the unsealer. Build: docker build -t unsealer .
FROM rust:1.95-alpine AS build
RUN apk add --no-cache musl-dev cmake make perl clang
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p unsealer && strip target/release/unsealer

FROM scratch
COPY --from=build /src/target/release/unsealer /unsealer
USER 1001:65534
EXPOSE 8080 8081
ENTRYPOINT ["/unsealer"]
