# The one image for migrate, api, worker and beat (compose.yaml picks the command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GONGZHI_DATA_DIR=/data

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt

COPY shared ./shared
COPY services ./services
COPY workers ./workers
COPY templates ./templates
COPY migrations ./migrations
# Installed in place (-e): templates/ and migrations/ live beside the packages and
# are found relative to them.
RUN pip install --no-deps -e . \
    && useradd --system --uid 10001 --home-dir /app gongzhi \
    && mkdir -p /data \
    && chown gongzhi /data

USER gongzhi
VOLUME ["/data"]
EXPOSE 8000
CMD ["uvicorn", "--factory", "services.api.app:create_app", "--host", "0.0.0.0", "--port", "8000"]
