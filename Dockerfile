# One image for every role: `xxgk daemon` (the scheduler), `xxgk worker`, and one-off commands.
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN useradd --create-home --uid 10001 xxgk && mkdir -p /data/data/journal && chown -R xxgk:xxgk /data
WORKDIR /app
COPY pyproject.toml README.md requirements.lock ./
COPY cli cli
COPY schedules schedules
COPY scraper scraper
COPY storage storage
COPY simulator simulator
COPY web web
RUN pip install -c requirements.lock '.[postgres,s3]'    # the versions the lock pins
USER xxgk
WORKDIR /data
# Config by environment: XXGK_CONFIG, XXGK_DATABASE_URL, XXGK_ARCHIVE_URL, XXGK_ENGINE, AWS_* (see README).
ENTRYPOINT ["xxgk"]
CMD ["sources"]
