# Builds the hookflow binary (pure Go: CGO is off, SQLite is modernc.org/sqlite).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/hookflow ./cmd/hookflow

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/hookflow /usr/local/bin/hookflow
USER nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/hookflow"]
