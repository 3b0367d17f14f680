FROM python:3.11-slim
RUN useradd --create-home --uid 10001 xxgk
WORKDIR /app
COPY pyproject.toml README.md ./
COPY cli cli
COPY schedules schedules
COPY scraper scraper
COPY storage storage
COPY simulator simulator
RUN pip install --no-cache-dir '.[postgres]'
USER xxgk
WORKDIR /data
ENTRYPOINT ["xxgk"]
CMD ["sources"]
