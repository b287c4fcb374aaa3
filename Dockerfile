# sitrep: one image for `sitrep worker` and `sitrep serve`. The catalog is
# the operator's, mounted at /etc/sitrep/catalog.yaml (docker-compose.yml
# mounts SITREP_CATALOG_FILE there); none is baked in.
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/sitrep ./cmd/sitrep

FROM debian:bookworm-slim
# curl: the compose healthchecks GET /readyz.
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tzdata curl \
    && rm -rf /var/lib/apt/lists/* && useradd --system --uid 10001 sitrep
COPY --from=build /out/sitrep /usr/local/bin/sitrep
USER sitrep
ENV SITREP_CATALOG=/etc/sitrep/catalog.yaml
EXPOSE 8080 9464
ENTRYPOINT ["/usr/local/bin/sitrep"]
CMD ["worker"]
