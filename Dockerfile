# The project's Airflow image: the official image plus this repo's pinned
# runtime tree (requirements.txt; the development pins of requirements-dev.txt,
# pytest and the demo's embedded Postgres among them, stay out of the image).
# docker-compose.yml builds it once and runs every Airflow service (and the
# demo data generator and emulators, which need only the runtime tree) from it;
# DAGs, plugins and include/ are mounted at run time, so editing them needs no
# rebuild.
#
# Extending the official image is its documented way to add packages
# (https://airflow.apache.org/docs/docker-stack/build.html); installing them at
# container start (_PIP_ADDITIONAL_REQUIREMENTS) is only meant for quick tries.
# Keep this tag equal to the apache-airflow pin in requirements.txt
# (tests/test_docker_compose.py checks it).
FROM apache/airflow:3.3.2-python3.11

# The image installs Python packages for the airflow user: pip must run as it.
USER airflow

# requirements.txt alone first, so the install layer is rebuilt only when the
# pins change. Naming apache-airflow==${AIRFLOW_VERSION} (set by the base image)
# as well makes pip fail loudly instead of moving Airflow if the pins disagree.
COPY requirements.txt /requirements.txt
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r /requirements.txt

# Passwords of the simple auth manager's users (admin / admin, local use only).
# Baked in rather than bind-mounted: the auth manager opens this file for
# writing at start, which a read-only or host-owned mount refuses. Group 0
# writable, so it also opens under any AIRFLOW_UID (containers run as UID:0).
COPY --chown=airflow:0 docker/simple_auth_manager_passwords.json /opt/airflow/simple_auth_manager_passwords.json
RUN chmod g+w /opt/airflow/simple_auth_manager_passwords.json
