-- A first run creates the warehouse database itself (make demo, a new server).
CREATE DATABASE {database}
